import { normalizePassword } from '../crypto/password-hash.js'
import { canonicalUsername } from './username.js'

export const MIN_PASSWORD_LENGTH = 12
/** scrypt reads the whole password; a cap keeps a request from feeding it megabytes. */
export const MAX_PASSWORD_LENGTH = 1024

/**
 * Why a new password is refused, empty when it is acceptable: fewer than
 * {@link MIN_PASSWORD_LENGTH} characters (counted as code points after NFC), more than
 * {@link MAX_PASSWORD_LENGTH}, control characters (RFC 8265 §4.2 disallows them), or the
 * username itself in any case.
 */
export function passwordProblems(password: string, username: string): string[] {
  const normalized = normalizePassword(password)
  const length = Array.from(normalized).length
  const problems: string[] = []
  if (length < MIN_PASSWORD_LENGTH) problems.push(`password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  if (length > MAX_PASSWORD_LENGTH) problems.push(`password must be at most ${MAX_PASSWORD_LENGTH} characters`)
  if (/\p{Cc}/u.test(normalized)) problems.push('password must not contain control characters')
  const asUsername = canonicalUsername(normalized)
  if (asUsername !== undefined && asUsername === canonicalUsername(username)) problems.push('password must not be the username')
  return problems
}
