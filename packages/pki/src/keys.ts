import { createPrivateKey, webcrypto } from 'node:crypto'

type CryptoKey = webcrypto.CryptoKey
type CryptoKeyPair = webcrypto.CryptoKeyPair
import { PkiError } from './errors.js'
import { ECDSA_P256 } from './x509.js'

/** A new P-256 key pair; the private key is extractable only so that it can be sealed. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])
}

/**
 * The private key as encrypted PKCS#8 PEM (PBES2, AES-256-CBC), which `openssl pkey -passin`
 * also opens.
 */
export async function sealPrivateKey(key: CryptoKey, passphrase: string): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
    .toString()
}

/** Opens a key sealed by {@link sealPrivateKey}, for signing only (not extractable). */
export async function openPrivateKey(pem: string, passphrase: string, what: string): Promise<CryptoKey> {
  let der: Buffer
  try {
    der = createPrivateKey({ key: pem, format: 'pem', passphrase }).export({ type: 'pkcs8', format: 'der' })
  } catch (err) {
    throw new PkiError('ERR_CA_KEY', `the ${what} key cannot be opened: wrong key encryption key, or the file is damaged`, { cause: err })
  }
  return webcrypto.subtle.importKey('pkcs8', der, ECDSA_P256, false, ['sign'])
}
