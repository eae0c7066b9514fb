const BASE64URL = /^[A-Za-z0-9_-]*$/

/**
 * Strict base64url (RFC 7515 §2): no padding, no `+` or `/`, no whitespace, and no
 * non-canonical trailing bits. Returns undefined for anything else.
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return undefined
  const bytes = Buffer.from(segment, 'base64url')
  return bytes.toString('base64url') === segment ? bytes : undefined
}

export function encodeBase64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}
