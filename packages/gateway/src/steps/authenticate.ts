import { decideScopes, VerificationError, type VerifiedToken } from '@meshguard/service-kit'
import { isBearerTokenSyntax, readBearerToken } from '../auth/read-bearer-token.js'
import type { ResolvedToken } from '../auth/token-resolver.js'
import { GatewayError } from '../errors.js'
import type { Exchange } from '../proxy/exchange.js'
import type { CompiledRoute } from '../routing/compiled-route.js'

/**
 * The route's policy. A public route reads no token and forwards the client's `Authorization`
 * as it came. Any other needs one `Bearer` token that resolves to a valid JWT addressed to the
 * route's audience, not bound to a client certificate, with the route's scopes; the JWT is then
 * forwarded as `Authorization: Bearer <JWT>` (for an opaque token, the JWT it was exchanged for:
 * the caller never sees it). No promise when the token is cached.
 *
 * @throws VerificationError (or rejects with one), or rejects with a GatewayError when the token
 * cannot be checked now (introspection or the shared state unreachable)
 */
export function authenticate(exchange: Exchange): void | Promise<void> {
  const route = exchange.route!
  if (route.public) {
    exchange.authorization = exchange.headers.authorization
    exchange.gateway.metrics.authDecision(route.name, 'public')
    return undefined
  }
  const resolver = exchange.state.resolver!
  const token = readBearerToken(exchange.headers.authorization)
  const cached = resolver.resolveNow(token)
  if (cached !== undefined) {
    admit(exchange, cached)
    return undefined
  }
  if (!isBearerTokenSyntax(token)) throw new VerificationError('ERR_TOKEN_MALFORMED', 'the token has characters a bearer token cannot have (RFC 6750 §2.1)')
  return resolver.resolve(token).then(
    (resolved) => {
      admit(exchange, resolved)
    },
    (err: unknown) => {
      // The gateway's own failures to resolve a token (introspection, shared state): counted here, as refusals are.
      if (err instanceof GatewayError) exchange.gateway.metrics.authDecision(route.name, err.code)
      throw err
    },
  )
}

function admit(exchange: Exchange, { verified, jwt }: ResolvedToken): void {
  const route = exchange.route!
  checkRoutePolicy(route, verified)
  exchange.clientId = verified.clientId
  exchange.authorization = `Bearer ${jwt}`
  exchange.gateway.metrics.authDecision(route.name, 'allowed')
}

/**
 * What the route asks of a verified token beyond the verifier's checks: its audience among the
 * token's (RFC 9068 §4: the verifier accepts every route's audience, so each route checks its
 * own), no certificate binding (RFC 8705 §3: the edge takes no client certificates, so a bound
 * token cannot be honoured here), and every scope the route requires.
 *
 * @throws VerificationError
 */
export function checkRoutePolicy(route: CompiledRoute, verified: VerifiedToken): void {
  const { aud, cnf } = verified.claims
  if (aud !== route.audience && !(typeof aud !== 'string' && aud.includes(route.audience))) {
    throw new VerificationError('ERR_TOKEN_AUDIENCE', 'the token is not addressed to the service behind this route')
  }
  if (cnf !== undefined) throw new VerificationError('ERR_TOKEN_BINDING', 'the token is bound to a client certificate, which the gateway does not take')
  if (route.scopes.length > 0) decideScopes([route.scopes], verified)
}
