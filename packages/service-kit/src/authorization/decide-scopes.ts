import { VerificationError } from '../errors.js'
import type { VerifiedToken } from '../verifier/verified-token.js'

/**
 * Seed 004's rule for `X-Scope-Token`: a service calls another with the caller's token in
 * `Authorization` and its own client-credentials token in `X-Scope-Token`. The operation is
 * allowed when one of its scope sets lies within the scope token's scopes (if that token was
 * presented and verified), or else within the caller's; otherwise `ERR_INSUFFICIENT_SCOPE`.
 * Identity always comes from the caller's token, whichever granted the scopes. Returns which
 * token's scopes granted the operation.
 */
export function decideScopes(
  alternatives: readonly (readonly string[])[],
  caller: Pick<VerifiedToken, 'scopes'>,
  scopeToken?: Pick<VerifiedToken, 'scopes'>,
): 'scope-token' | 'caller' {
  if (scopeToken !== undefined && within(alternatives, scopeToken.scopes)) return 'scope-token'
  if (within(alternatives, caller.scopes)) return 'caller'
  throw new VerificationError('ERR_INSUFFICIENT_SCOPE', `the operation needs scope ${(alternatives[0] ?? []).join(' ')}`)
}

function within(alternatives: readonly (readonly string[])[], scopes: ReadonlySet<string>): boolean {
  for (const required of alternatives) {
    let all = true
    for (const scope of required) {
      if (!scopes.has(scope)) {
        all = false
        break
      }
    }
    if (all) return true
  }
  return false
}
