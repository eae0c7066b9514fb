import { randomUUID } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { GatewayState } from '../gateway-state.js'
import type { RequestHeaders } from '../headers/read-request-headers.js'
import type { GatewayMetrics } from '../observability/gateway-metrics.js'
import type { RateLimitStore } from '../rate-limit/rate-limit-store.js'
import type { CompiledRoute } from '../routing/compiled-route.js'
import type { UpstreamInstance } from '../upstream/upstream-instance.js'

/** A request at the edge, HTTP/1.1 (`IncomingMessage`) or HTTP/2 (`Http2ServerRequest`): what the gateway reads of it. */
export interface EdgeRequest extends Readable {
  readonly method?: string | undefined
  readonly url?: string | undefined
  readonly rawHeaders: string[]
  readonly httpVersionMajor: number
  readonly socket: { readonly remoteAddress?: string | undefined } | null
}

/**
 * A response at the edge, HTTP/1.1 or HTTP/2. Both of Node's take headers as a flat list (name,
 * value, name, value…), which keeps repeated ones (`Set-Cookie`) apart; the HTTP/2 typings
 * only say so for objects.
 */
export interface EdgeResponse {
  readonly headersSent: boolean
  readonly writableEnded: boolean
  readonly writableFinished: boolean
  readonly statusCode: number
  writeHead(statusCode: number, headers: string[]): unknown
  writeContinue(): void
  write(chunk: Uint8Array): boolean
  end(chunk?: string): unknown
  destroy(err?: Error): unknown
  once(event: 'close' | 'drain', listener: () => void): unknown
}

/** What the request steps need from the gateway around them. */
export interface GatewayContext {
  readonly logger: Logger
  readonly metrics: GatewayMetrics
  readonly registry: Registry
  readonly rateLimits: RateLimitStore
  /** The scheme clients reached the gateway by. */
  readonly scheme: 'http' | 'https'
  /** Draining: responses close their connection. */
  readonly closing: boolean
  /** The issuer's keys are loaded (or no route reads tokens), and the gateway is not closing. */
  readonly ready: boolean
}

/** The upstream side of an exchange, which the client going away must stop. */
export interface UpstreamSide {
  abort(): void
}

/** One request through the gateway: what each step learnt, for the next ones, the response and the access log. */
export class Exchange {
  readonly startedAt = performance.now()
  /** Generated for every request (a client's own `X-Request-Id` is not trusted), sent upstream and back to the client. */
  readonly requestId = randomUUID()
  readonly method: string
  path = ''
  /** After the `?`; empty when none. */
  query = ''
  headers!: RequestHeaders
  route: CompiledRoute | undefined = undefined
  /** `Access-Control-*` headers for every response on a CORS route. */
  cors: string[] | undefined = undefined
  /** What to send upstream as `Authorization`: `Bearer <JWT>` for token routes, the client's own on public ones. */
  authorization: string | undefined = undefined
  clientId: string | undefined = undefined
  traceId: string | undefined = undefined
  instance: UpstreamInstance | undefined = undefined
  upstream: UpstreamSide | undefined = undefined
  /** The refusal or failure code, for the access log. */
  error: string | undefined = undefined
  /** The client sent `Expect: 100-continue`: it waits for the go-ahead before sending its body. */
  expectsContinue = false
  clientGone = false
  /** A step answered the request itself (a CORS preflight): the steps stop. */
  answered = false
  /** A request for the gateway's own paths (`/-/…`): not in the access log or the request metrics. */
  internal = false
  #clientAddress: string | undefined = undefined

  constructor(
    readonly gateway: GatewayContext,
    /** The configuration in force when the request arrived; a reload does not change it under the request. */
    readonly state: GatewayState,
    readonly req: EdgeRequest,
    readonly res: EdgeResponse,
  ) {
    this.method = req.method ?? 'GET'
  }

  get http2(): boolean {
    return this.req.httpVersionMajor === 2
  }

  /**
   * The client's address: the peer's, or behind `listen.trustProxyHops` trusted proxies, the
   * `X-Forwarded-For` entry that many hops from the right.
   */
  get clientAddress(): string {
    this.#clientAddress ??= clientAddressOf(this)
    return this.#clientAddress
  }

  /** The `X-Forwarded-For` to send upstream: the chain through trusted proxies, then the peer. */
  get forwardedFor(): string {
    const peer = peerAddress(this.req)
    const incoming = this.state.config.listen.trustProxyHops > 0 ? this.headers.forwardedFor : undefined
    return incoming === undefined ? peer : `${incoming}, ${peer}`
  }
}

function clientAddressOf(exchange: Exchange): string {
  const hops = exchange.state.config.listen.trustProxyHops
  const peer = peerAddress(exchange.req)
  if (hops === 0 || exchange.headers.forwardedFor === undefined) return peer
  const chain = exchange.headers.forwardedFor.split(',')
  chain.push(peer)
  return chain[Math.max(0, chain.length - 1 - hops)]!.trim()
}

function peerAddress(req: EdgeRequest): string {
  const address = req.socket?.remoteAddress ?? ''
  return address.startsWith('::ffff:') ? address.slice(7) : address
}
