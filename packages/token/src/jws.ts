import { sign, verify, type KeyObject } from 'node:crypto'
import type { SigningAlgorithm } from './algorithms.js'

/** Node's digest name for each JWS `alg` (EdDSA takes none). */
const DIGEST: Record<SigningAlgorithm, string | null> = { ES256: 'sha256', RS256: 'sha256', EdDSA: null }

/** The JWS signature over `input`; ECDSA in the fixed-width R||S form of RFC 7518 §3.4. */
export function signJws(alg: SigningAlgorithm, key: KeyObject, input: string): Buffer {
  return sign(DIGEST[alg], Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key)
}

/**
 * Checks a JWS signature. ES256 signatures must be exactly 64 bytes (R||S): DER-encoded,
 * truncated and all-zero signatures are refused before any curve arithmetic.
 */
export function verifyJws(alg: SigningAlgorithm, key: KeyObject, input: string, signature: Buffer): boolean {
  if (alg === 'ES256') {
    if (signature.length !== 64 || signature.subarray(0, 32).every((b) => b === 0) || signature.subarray(32).every((b) => b === 0)) {
      return false
    }
    return verify('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }, signature)
  }
  return verify(DIGEST[alg], Buffer.from(input), key, signature)
}

/** Whether a key may be used with an algorithm: the RFC 8725 §3.1 binding of `alg` to key type. */
export function keyMatchesAlgorithm(alg: SigningAlgorithm, key: KeyObject): boolean {
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
    case 'RS256':
      return key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519'
  }
}
