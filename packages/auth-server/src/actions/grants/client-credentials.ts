import { issueAccessToken } from '../../tokens/issue-access-token.js'
import type { Grant } from './grant.js'
import { grantTargets } from './grant-targets.js'

/**
 * RFC 6749 §4.4. The client acts for itself: the token's subject is the client, its scopes are
 * drawn from the client's allow-list (all of it when none are requested, §3.3), and its audience
 * is the resource servers those scopes belong to, or the `resource`/`audience` asked for
 * (RFC 8707). No refresh token (§4.4.3). A `reference` client gets an opaque token for the JWT.
 */
export const clientCredentials: Grant = {
  grantType: 'client_credentials',
  async handle(ctx, { client, params, confirmation }) {
    const { scopes, audience } = await grantTargets(ctx, params, {
      scope: params.get('scope'),
      limits: [{ scopes: client.scopes, refusal: 'scope not allowed for this client' }],
      defaults: client.scopes,
    })
    const issued = await issueAccessToken(ctx, {
      subject: client.id,
      clientId: client.id,
      scopes,
      audience,
      mayAct: client.mayAct,
      confirmation,
      format: client.tokenFormat,
    })
    return {
      claims: issued.claims,
      body: { access_token: issued.token, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.claims.scope },
    }
  },
}
