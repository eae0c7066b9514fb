import { createHash } from 'node:crypto'

/**
 * What the phantom-token caches know an opaque token by: its SHA-256, base64url. Neither this
 * instance's memory nor Redis holds the token itself.
 */
export function phantomTokenId(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}
