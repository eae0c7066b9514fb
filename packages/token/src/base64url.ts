const BASE64URL = /^[A-Za-z0-9_-]*$/
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * Strict base64url (RFC 7515 §2): no padding, no `+` or `/`, no whitespace, and no
 * non-canonical trailing bits (RFC 4648 §3.5). Returns undefined for anything else.
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment)) return undefined
  const tail = segment.length % 4
  if (tail === 1) return undefined
  if (tail !== 0) {
    // The last character carries 4 (tail 2) or 2 (tail 3) bits past the final byte: they must be 0.
    const unusedBits = ALPHABET.indexOf(segment.charAt(segment.length - 1)) & (tail === 2 ? 0x0f : 0x03)
    if (unusedBits !== 0) return undefined
  }
  return Buffer.from(segment, 'base64url')
}

export function encodeBase64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}
