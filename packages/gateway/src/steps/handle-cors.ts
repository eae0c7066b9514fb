import { corsResponseHeaders, preflightHeaders } from '../cors/compile-cors.js'
import type { Exchange } from '../proxy/exchange.js'

/**
 * On a route with CORS settings, answers a preflight at the gateway (Fetch §3.2.2: `OPTIONS`
 * with `Origin` and `Access-Control-Request-Method`; no token is read, browsers send none), and
 * works out the `Access-Control-*` headers of the response to anything else.
 *
 * @throws GatewayError `ERR_CORS_REFUSED` for a preflight asking for what is not allowed
 */
export function handleCors(exchange: Exchange): void {
  const { cors } = exchange.route!
  if (cors === undefined) return
  const { origin, preflightMethod, preflightHeaders: requested } = exchange.headers
  if (exchange.method === 'OPTIONS' && origin !== undefined && preflightMethod !== undefined) {
    const headers = preflightHeaders(cors, origin, preflightMethod, requested)
    headers.push('x-request-id', exchange.requestId, 'content-length', '0')
    exchange.res.writeHead(204, headers)
    exchange.res.end()
    exchange.answered = true
    return
  }
  exchange.cors = corsResponseHeaders(cors, origin)
}
