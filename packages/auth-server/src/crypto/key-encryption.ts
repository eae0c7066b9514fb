import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MeshguardError } from '../errors.js'

const VERSION = 'v1'

/**
 * Seals a private key with AES-256-GCM under the key encryption key. The key id is bound as
 * additional authenticated data, so a sealed key cannot be swapped onto another record.
 */
export function seal(plaintext: Buffer, kek: Buffer, aad: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', kek, iv)
  cipher.setAAD(Buffer.from(aad, 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return [VERSION, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.')
}

/** Opens a value made by {@link seal}; a wrong key or tampered value fails with `ERR_KEY_DECRYPT`. */
export function open(sealed: string, kek: Buffer, aad: string): Buffer {
  const parts = sealed.split('.')
  const [version, iv, ciphertext, tag] = parts
  if (parts.length !== 4 || version !== VERSION || iv === undefined || ciphertext === undefined || tag === undefined) {
    throw new MeshguardError('ERR_KEY_DECRYPT', `sealed key ${aad} has an unknown format`)
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'), { authTagLength: 16 })
    decipher.setAAD(Buffer.from(aad, 'utf8'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()])
  } catch {
    throw new MeshguardError(
      'ERR_KEY_DECRYPT',
      `cannot decrypt signing key ${aad}: the key encryption key is not the one it was sealed with`,
    )
  }
}

export const KEK_FILE_NAME = 'key-encryption.key'

export interface ResolvedKek {
  key: Buffer
  /** Where it came from, for the start-up log. */
  source: 'config' | 'generated-file' | 'file'
}

/**
 * The configured key encryption key, or for the embedded (SQLite) setup one kept in the data
 * directory with mode 0600, created on first start. With PostgreSQL the key must be configured:
 * instances on other machines could not read a file here.
 */
export function resolveKeyEncryptionKey(options: {
  keyEncryptionKey?: string | undefined
  databaseUrl?: string | undefined
  dataDir: string
}): ResolvedKek {
  if (options.keyEncryptionKey) return { key: Buffer.from(options.keyEncryptionKey, 'base64url'), source: 'config' }
  if (options.databaseUrl) {
    throw new MeshguardError(
      'ERR_CONFIG_INVALID',
      'keyEncryptionKey (MESHGUARD_KEY_ENCRYPTION_KEY) is required with a shared database: every instance must seal keys alike',
    )
  }
  const file = join(options.dataDir, KEK_FILE_NAME)
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url')
    if (key.length !== 32) throw new MeshguardError('ERR_KEY_DECRYPT', `${file} does not hold a 32-byte key`)
    return { key, source: 'file' }
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 })
  const key = randomBytes(32)
  writeFileSync(file, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  chmodSync(file, 0o600)
  return { key, source: 'generated-file' }
}
