import type { ServerContext } from '../../context.js'
import { InvalidScope } from '../../errors.js'
import { parseScope } from '../../tokens/claims.js'
import { issueAccessToken } from '../../tokens/issue-access-token.js'
import type { Grant } from './grant.js'

/**
 * RFC 6749 §4.4. The client acts for itself: the token's subject is the client, its scopes are
 * drawn from the client's allow-list, and its audience is the resource servers those scopes
 * belong to. No refresh token (§4.4.3).
 */
export const clientCredentials: Grant = {
  grantType: 'client_credentials',
  async handle(ctx, { client, params }) {
    const requested = requestedScopes(params.get('scope'), client.scopes)
    const audience = await audienceOf(ctx, requested)
    const issued = issueAccessToken(ctx, {
      subject: client.id,
      clientId: client.id,
      scopes: requested,
      audience,
      mayAct: client.mayAct,
    })
    return {
      claims: issued.claims,
      body: { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.claims.scope },
    }
  },
}

/** The requested scopes, all within `allowed`; the whole allow-list when none are requested (RFC 6749 §3.3). */
export function requestedScopes(scope: string | undefined, allowed: readonly string[]): string[] {
  if (scope === undefined) {
    if (allowed.length === 0) throw new InvalidScope('no scope requested and the client has none registered')
    return [...allowed]
  }
  const requested = parseScope(scope)
  if (requested === undefined) throw new InvalidScope('scope contains characters RFC 6749 §3.3 does not allow')
  if (requested.length === 0) throw new InvalidScope('scope is empty')
  const refused = requested.filter((s) => !allowed.includes(s))
  if (refused.length > 0) throw new InvalidScope(`scope not allowed for this client: ${refused.join(' ')}`)
  return requested
}

/** The resource servers that define the scopes; a scope no resource server defines is refused. */
export async function audienceOf(ctx: ServerContext, scopes: readonly string[]): Promise<string[]> {
  const owners = await ctx.store.resolveScopes(scopes)
  const unknown = scopes.filter((s) => !owners.has(s))
  if (unknown.length > 0) throw new InvalidScope(`scope not defined by any resource server: ${unknown.join(' ')}`)
  return [...new Set(owners.values())]
}
