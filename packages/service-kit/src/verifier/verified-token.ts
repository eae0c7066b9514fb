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
  /**
   * Addressed not to this service but to one of the verifier's `forwardedAudiences`: a caller's
   * identity forwarded by an upstream service (seed 004), which grants nothing here by itself.
   */
  readonly forwarded: boolean
}
