import { GatewayError } from '../errors.js'
import { readRequestHeaders } from '../headers/read-request-headers.js'
import type { Exchange } from '../proxy/exchange.js'
import { checkPath } from '../routing/check-path.js'

/** Splits the target into path and query, refuses paths that could mean two things, and reads the headers in one pass. */
export function readRequest(exchange: Exchange): void {
  const url = exchange.req.url ?? '/'
  const q = url.indexOf('?')
  exchange.path = q < 0 ? url : url.slice(0, q)
  exchange.query = q < 0 ? '' : url.slice(q + 1)
  checkPath(exchange.path)
  exchange.headers = readRequestHeaders(exchange.req.rawHeaders, exchange.state.config.listen.trustProxyHops > 0)
  if (exchange.headers.hostCount > 1) throw new GatewayError('ERR_HOST_INVALID', 'more than one host header')
}
