import { GatewayError } from '../errors.js'
import type { Exchange } from '../proxy/exchange.js'
import type { RateLimit } from '../rate-limit/rate-limit-store.js'

/** The route's per-address token bucket, before any token is read. */
export function limitPerIp(exchange: Exchange): void | Promise<void> {
  const route = exchange.route!
  if (route.perIp === undefined) return undefined
  return take(exchange, `ip ${route.name} ${exchange.clientAddress}`, route.perIp, 'per_ip')
}

/** The route's per-client token bucket, by the verified token's `client_id`. */
export function limitPerClient(exchange: Exchange): void | Promise<void> {
  const route = exchange.route!
  if (route.perClient === undefined || exchange.clientId === undefined) return undefined
  return take(exchange, `client ${route.name} ${exchange.clientId}`, route.perClient, 'per_client')
}

function take(exchange: Exchange, key: string, limit: RateLimit, which: 'per_client' | 'per_ip'): void | Promise<void> {
  const wait = exchange.gateway.rateLimits.take(key, limit)
  if (typeof wait === 'number') {
    if (wait > 0) throw limited(exchange, wait, which)
    return undefined
  }
  return wait.then((ms) => {
    if (ms > 0) throw limited(exchange, ms, which)
  })
}

function limited(exchange: Exchange, waitMs: number, which: 'per_client' | 'per_ip'): GatewayError {
  exchange.gateway.metrics.rateLimited(exchange.route!.name, which)
  const what = which === 'per_client' ? 'this client' : 'this address'
  return new GatewayError('ERR_RATE_LIMITED', `too many requests from ${what}; try again later`, { retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) })
}
