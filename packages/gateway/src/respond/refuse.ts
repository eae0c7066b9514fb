import { VerificationError } from '@meshguard/service-kit'
import { GatewayError } from '../errors.js'
import type { Exchange } from '../proxy/exchange.js'
import { gatewayRefusal } from './gateway-refusal.js'

/**
 * Answers a refusal or failure with its status, OAuth-style JSON body, challenge, `no-store`, the
 * request id and the route's CORS headers. A request whose body was not read has its HTTP/1.1
 * connection closed after the answer rather than the body drained. Once a response has started,
 * the stream is cut instead.
 */
export function refuse(exchange: Exchange, err: unknown): void {
  const { res, route, gateway } = exchange
  if (err instanceof VerificationError || err instanceof GatewayError) {
    exchange.error = err.code
    if (err instanceof VerificationError && route !== undefined) gateway.metrics.authDecision(route.name, err.code)
  } else {
    exchange.error = 'ERR_INTERNAL'
    gateway.logger.error({ err, requestId: exchange.requestId }, 'request failed')
  }
  if (exchange.clientGone || res.writableEnded) return
  if (res.headersSent) {
    res.destroy()
    return
  }
  const refusal = gatewayRefusal(err, { realm: exchange.state.config.tokens.realm, scope: route?.scopes })
  const headers = refusal.headers
  headers.push('content-type', 'application/json', 'cache-control', 'no-store', 'x-request-id', exchange.requestId)
  if (exchange.cors !== undefined) headers.push(...exchange.cors)
  if (!exchange.http2 && (gateway.closing || bodyLeftUnread(exchange))) headers.push('connection', 'close')
  res.writeHead(refusal.status, headers)
  res.end(JSON.stringify(refusal.body))
}

function bodyLeftUnread(exchange: Exchange): boolean {
  const headers = exchange.headers as Exchange['headers'] | undefined
  if (headers === undefined) return false
  return exchange.upstream === undefined && (headers.chunked || (headers.contentLength !== undefined && headers.contentLength !== '0'))
}
