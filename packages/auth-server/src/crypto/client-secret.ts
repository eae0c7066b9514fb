import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { decodeBase64url } from '@meshguard/token'

/** Secrets shorter than this are refused at registration: they must be high-entropy. */
export const MIN_CLIENT_SECRET_LENGTH = 32

/** 256 random bits, base64url: what `meshguard client create` hands out. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Client secrets are generated with 256 bits of entropy (or refused below
 * {@link MIN_CLIENT_SECRET_LENGTH} characters), so a salted SHA-256 resists offline
 * guessing as well as a slow hash would, at a cost of microseconds per token request.
 * See docs/decisions/0002-client-secret-hashing.md.
 */
export function hashClientSecret(secret: string): string {
  const salt = randomBytes(16)
  return `sha256$${salt.toString('base64url')}$${digest(salt, secret).toString('base64url')}`
}

/** Constant-time comparison against a stored {@link hashClientSecret} value. */
export function verifyClientSecret(secret: string, stored: string): boolean {
  const parts = stored.split('$')
  if (parts.length !== 3 || parts[0] !== 'sha256') return false
  const salt = decodeBase64url(parts[1]!)
  const wanted = decodeBase64url(parts[2]!)
  if (salt?.length !== 16 || wanted?.length !== 32) return false
  return timingSafeEqual(digest(salt, secret), wanted)
}

function digest(salt: Buffer, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret, 'utf8').digest()
}
