import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * The bearer secrets of end-user flows: authorization codes, refresh tokens, session and
 * interaction ids. Each is a prefix and 256 random bits, base64url; the prefix makes a leaked
 * one recognisable. The store keeps only {@link secretHash}, so reading it yields nothing usable.
 */
export const secretPrefixes = {
  code: 'mgac_',
  refreshToken: 'mgrt_',
  session: 'mgss_',
  interaction: 'mgix_',
} as const

export type SecretKind = keyof typeof secretPrefixes

const SHAPES: Record<SecretKind, RegExp> = {
  code: /^mgac_[A-Za-z0-9_-]{43}$/,
  refreshToken: /^mgrt_[A-Za-z0-9_-]{43}$/,
  session: /^mgss_[A-Za-z0-9_-]{43}$/,
  interaction: /^mgix_[A-Za-z0-9_-]{43}$/,
}

export function newSecret(kind: SecretKind): string {
  return `${secretPrefixes[kind]}${randomBytes(32).toString('base64url')}`
}

/** Whether a value has the shape of a secret of this kind; anything else is refused unhashed. */
export function isSecret(kind: SecretKind, value: string | undefined): value is string {
  return value !== undefined && SHAPES[kind].test(value)
}

/** SHA-256, base64url: what the store finds a secret by. */
export function secretHash(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}

/** A form's synchronizer token: 128 random bits. */
export function newCsrfToken(): string {
  return randomBytes(16).toString('base64url')
}

/** Whether a form sent the expected synchronizer token, compared in constant time. */
export function matchesCsrfToken(sent: string | undefined, expected: string): boolean {
  if (sent === undefined || sent.length !== expected.length) return false
  return timingSafeEqual(Buffer.from(sent), Buffer.from(expected))
}
