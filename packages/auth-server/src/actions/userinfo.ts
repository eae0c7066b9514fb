import type { ServerContext } from '../context.js'
import { InsufficientScope, InvalidRequest, InvalidToken } from '../errors.js'
import type { ClientCertificate } from '../client-auth/context.js'
import { inspectToken } from '../tokens/inspect-token.js'
import { userClaims } from '../tokens/id-token.js'

export interface UserinfoRequest {
  authorization: string | undefined
  /** The certificate of a mutual-TLS connection, for a certificate-bound token (RFC 8705 §3). */
  clientCertificate: ClientCertificate | undefined
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/**
 * OpenID Connect Core §5.3: the signed-in user's claims for an access token granted `openid`,
 * as far as its scopes release them. Errors are RFC 6750 §3.1 challenges.
 */
export async function userinfoEndpoint(ctx: ServerContext, request: UserinfoRequest): Promise<Record<string, unknown>> {
  if (request.authorization === undefined) throw new InvalidRequest('an access token is required in the Authorization header', 401)
  const token = BEARER.exec(request.authorization)?.[1]
  if (token === undefined) throw new InvalidRequest('the Authorization header must be "Bearer <token>"', 401)
  const inspection = await inspectToken(ctx, token)
  if (!inspection.active) throw new InvalidToken(`access token is not active (${inspection.reason})`)
  const { claims } = inspection
  const bound = claims.cnf?.['x5t#S256']
  if (claims.cnf !== undefined && (bound === undefined || bound !== request.clientCertificate?.thumbprint)) {
    throw new InvalidToken('access token is bound to a certificate this connection did not present')
  }
  const scopes = claims.scope.split(' ')
  if (!scopes.includes('openid')) throw new InsufficientScope('the access token was not granted the openid scope')
  const user = await ctx.store.getUser(claims.sub)
  if (user === undefined) throw new InvalidToken('the user of this access token no longer exists')
  return { sub: user.id, ...userClaims(user, scopes) }
}
