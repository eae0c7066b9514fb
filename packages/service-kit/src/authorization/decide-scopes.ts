import { VerificationError } from '../errors.js'
import type { VerifiedToken } from '../verifier/verified-token.js'

export interface ScopeDecision {
  /** Which token's scopes satisfied the operation. */
  grantedBy: 'scope-token' | 'caller'
}

/**
 * Seed 004's rule for `X-Scope-Token`: a service calls another with the caller's token in
 * `Authorization` and its own client-credentials token in `X-Scope-Token`. The operation is
 * allowed when one of its scope sets lies within the scope token's scopes (if that token was
 * presented and verified), or else within the caller's; otherwise `ERR_INSUFFICIENT_SCOPE`.
 * Identity always comes from the caller's token, whichever granted the scopes.
 */
export function decideScopes(
  alternatives: readonly (readonly string[])[],
  caller: Pick<VerifiedToken, 'scopes'>,
  scopeToken?: Pick<VerifiedToken, 'scopes'>,
): ScopeDecision {
  const within = (token: Pick<VerifiedToken, 'scopes'>) => alternatives.some((required) => required.every((scope) => token.scopes.has(scope)))
  if (scopeToken !== undefined && within(scopeToken)) return { grantedBy: 'scope-token' }
  if (within(caller)) return { grantedBy: 'caller' }
  throw new VerificationError('ERR_INSUFFICIENT_SCOPE', `the operation needs scope ${(alternatives[0] ?? []).join(' ')}`)
}
