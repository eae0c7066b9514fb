import { createHash, timingSafeEqual } from 'node:crypto'

/** RFC 7636 §4.2: an S256 challenge is the base64url SHA-256 of the verifier, 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

export function isS256Challenge(value: string): boolean {
  return S256_CHALLENGE.test(value)
}

export function isCodeVerifier(value: string): boolean {
  return CODE_VERIFIER.test(value)
}

/** RFC 7636 §4.6: whether `BASE64URL(SHA256(verifier))` is the challenge, compared in constant time. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  const computed = createHash('sha256').update(verifier, 'ascii').digest()
  const expected = Buffer.from(challenge, 'base64url')
  return expected.length === computed.length && timingSafeEqual(computed, expected)
}
