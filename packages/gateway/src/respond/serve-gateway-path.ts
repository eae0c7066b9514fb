import type { Exchange } from '../proxy/exchange.js'
import { GatewayError } from '../errors.js'
import { refuse } from './refuse.js'

/**
 * The gateway's own paths, under the reserved prefix `/-/` on every host (no route may use it):
 * `/-/healthz` (200 while the process serves, 503 once draining), `/-/readyz` (200 once the
 * issuer's keys are loaded, 503 before and while draining), and `/-/metrics` (Prometheus text,
 * only with `exposeMetrics`). Anything else there is 404.
 */
export function serveGatewayPath(exchange: Exchange, path: string): void {
  const { gateway, res } = exchange
  switch (path) {
    case '/-/healthz':
      json(exchange, gateway.closing ? 503 : 200, { status: gateway.closing ? 'closing' : 'ok' })
      return
    case '/-/readyz':
      json(exchange, gateway.ready ? 200 : 503, { status: gateway.ready ? 'ready' : gateway.closing ? 'closing' : 'keys not loaded' })
      return
    case '/-/metrics':
      if (exchange.state.config.exposeMetrics) {
        gateway.registry.metrics().then(
          (text) => {
            if (exchange.clientGone) return
            res.writeHead(200, ['content-type', gateway.registry.contentType, 'cache-control', 'no-store'])
            res.end(text)
          },
          (err: unknown) => {
            refuse(exchange, err)
          },
        )
        return
      }
      break
    default:
      break
  }
  refuse(exchange, new GatewayError('ERR_ROUTE_NOT_FOUND', 'no route matches this request'))
}

function json(exchange: Exchange, status: number, body: Record<string, string>): void {
  exchange.res.writeHead(status, ['content-type', 'application/json', 'cache-control', 'no-store', 'x-request-id', exchange.requestId])
  exchange.res.end(JSON.stringify(body))
}
