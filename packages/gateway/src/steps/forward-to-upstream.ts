import type { Readable } from 'node:stream'
import { LimitedBody } from '../proxy/limit-body.js'
import type { Exchange } from '../proxy/exchange.js'
import { UpstreamCall } from '../proxy/upstream-call.js'
import { randomHex } from '../trace/random-hex.js'
import { parseTraceparent } from '../trace/trace-context.js'

/**
 * Sends the request to an instance of the route's upstream: the path (prefix stripped if the
 * route says so) under the instance's base path, the client's headers as filtered, and the
 * gateway's own: `Authorization`, `X-Forwarded-For/Proto/Host` (and `X-Forwarded-Prefix` when
 * the prefix is stripped), `X-Request-Id`, and `traceparent` (W3C Trace Context: the client's
 * trace continued with a new span id, or a new trace), `tracestate` only with a valid incoming
 * `traceparent`.
 */
export function forwardToUpstream(exchange: Exchange): void {
  const { headers, req, res } = exchange
  const route = exchange.route!
  const { forward } = headers
  if (exchange.authorization !== undefined) forward.push('authorization', exchange.authorization)
  forward.push('x-forwarded-for', exchange.forwardedFor, 'x-forwarded-proto', headers.forwardedProto ?? exchange.gateway.scheme, 'x-request-id', exchange.requestId)
  const host = headers.forwardedHost ?? headers.host ?? headers.authority
  if (host !== undefined) forward.push('x-forwarded-host', host)
  const incoming = headers.traceparentCount === 1 ? parseTraceparent(headers.traceparent!) : undefined
  const traceId = incoming?.traceId ?? randomHex(16)
  exchange.traceId = traceId
  forward.push('traceparent', `00-${traceId}-${randomHex(8)}-${incoming?.flags ?? '01'}`)
  if (incoming !== undefined && headers.tracestate !== undefined) forward.push('tracestate', headers.tracestate)

  let stripped = exchange.path
  if (route.stripPrefix && route.pathPrefix.length > 1) {
    stripped = exchange.path.slice(route.pathPrefix.length) || '/'
    forward.push('x-forwarded-prefix', route.pathPrefix)
  }
  const path = exchange.query === '' ? stripped : `${stripped}?${exchange.query}`

  let body: Readable | null = null
  if (hasBody(exchange)) {
    const limited = new LimitedBody(route.bodyLimitBytes)
    req.pipe(limited)
    body = limited
  }
  if (exchange.expectsContinue) res.writeContinue()
  const call = new UpstreamCall(exchange, path, forward, body)
  exchange.upstream = call
  call.start()
}

function hasBody(exchange: Exchange): boolean {
  const { contentLength, chunked } = exchange.headers
  if (exchange.http2) return !(exchange.req as Readable & { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders
  return chunked || (contentLength !== undefined && contentLength !== '0')
}
