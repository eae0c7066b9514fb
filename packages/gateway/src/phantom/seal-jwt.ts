import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const VERSION = 'v1'
const INFO = 'meshguard gateway phantom-token cache'

/**
 * Seals the JWT an opaque token stands for with AES-256-GCM, under a key derived from the opaque
 * token by HKDF-SHA256, its id bound as additional data: what Redis holds is useless without the
 * token, which only the caller has (as the authorization server keeps reference tokens, ADR 0010).
 */
export function sealJwt(jwt: string, token: string, id: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', sealingKey(token), iv)
  cipher.setAAD(Buffer.from(id, 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(jwt, 'utf8'), cipher.final()])
  return [VERSION, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
}

/** The JWT {@link sealJwt} sealed, or `undefined` when the value does not open with this token (altered, or not its own). */
export function openJwt(sealed: string, token: string, id: string): string | undefined {
  const [version, iv, ciphertext, tag, extra] = sealed.split('.')
  if (version !== VERSION || iv === undefined || ciphertext === undefined || tag === undefined || extra !== undefined) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(token), Buffer.from(iv, 'base64url'), { authTagLength: 16 })
    decipher.setAAD(Buffer.from(id, 'utf8'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}

function sealingKey(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', token, Buffer.alloc(0), INFO, 32))
}
