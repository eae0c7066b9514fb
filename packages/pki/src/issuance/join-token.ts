import { createHash, randomBytes } from 'node:crypto'

/** Join tokens start with this, so a leaked one is recognisable (and findable by secret scanners). */
export const JOIN_TOKEN_PREFIX = 'mgjoin_'

/** A new one-time join token: the prefix and 256 random bits, base64url. */
export function newJoinToken(): string {
  return `${JOIN_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
}

/** What the store keeps of a join token: its SHA-256, base64url. The token itself is never stored. */
export function joinTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}
