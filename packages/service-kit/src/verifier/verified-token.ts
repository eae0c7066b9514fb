import type { AccessTokenClaims } from '@meshguard/token'

/** A token that passed verification, with what handlers need from it. */
export interface VerifiedToken {
  readonly claims: AccessTokenClaims
  readonly subject: string
  readonly clientId: string
  readonly scopes: ReadonlySet<string>
  /** The RFC 8693 delegation chain, most recent actor first; empty for a direct call. */
  readonly chain: readonly string[]
  /** The key that signed it. */
  readonly kid: string
}
