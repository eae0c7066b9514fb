import { GatewayError } from '../errors.js'
import type { Exchange } from '../proxy/exchange.js'
import { hostName } from '../routing/check-path.js'

/** Finds the route: by host (`Host`, or HTTP/2's `:authority`), then the longest path prefix. */
export function matchRoute(exchange: Exchange): void {
  const { routes } = exchange.state
  const host = routes.matchesHosts ? hostName(exchange.headers.host ?? exchange.headers.authority) : undefined
  const route = routes.match(host, exchange.path)
  if (route === undefined) throw new GatewayError('ERR_ROUTE_NOT_FOUND', 'no route matches this request')
  exchange.route = route
}
