import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { GatewayError } from '../errors.js'
import { upstreamResponseHeaders } from '../headers/response-headers.js'
import { refuse } from '../respond/refuse.js'
import type { UpstreamInstance } from '../upstream/upstream-instance.js'
import type { Exchange, UpstreamSide } from './exchange.js'

/** RFC 9110 §9.2.2: methods a request may be repeated with, as the client would see one effect. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])
const TIMEOUTS = new Set<string | undefined>(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/**
 * One request to the upstream, streamed both ways through undici's dispatcher API (no
 * intermediate stream objects): attempts on successive instances, the response relayed with
 * back-pressure, failures turned into 502/504.
 *
 * Retry rule: another attempt, on an instance not tried yet when there is one, only for an
 * idempotent method without a request body, only when no response came and the failure was not
 * a timeout (a slow upstream is not given more load), at most `retries` times.
 * Passive health: connection, TLS and SPIFFE failures, resets and timeouts count against the
 * instance; any response (5xx included) clears its record.
 */
export class UpstreamCall implements Dispatcher.DispatchHandler, UpstreamSide {
  #controller: Dispatcher.DispatchController | undefined
  #instance!: UpstreamInstance
  #tried: UpstreamInstance[] | undefined
  #attempt = 0
  #responding = false
  #done = false

  constructor(
    readonly exchange: Exchange,
    readonly path: string,
    readonly headers: string[],
    readonly body: Readable | null,
  ) {}

  start(): void {
    const { exchange } = this
    const route = exchange.route!
    const instance = route.upstream.pick(this.#tried)
    this.#instance = instance
    exchange.instance = instance
    this.#controller = undefined
    instance.dispatcher.dispatch(
      {
        origin: instance.origin,
        path: instance.basePath === '' ? this.path : instance.basePath + this.path,
        method: exchange.method,
        headers: this.headers,
        body: this.body,
        headersTimeout: route.timeoutMs,
        bodyTimeout: route.timeoutMs,
      },
      this,
    )
  }

  /** The client went away: the upstream request is cancelled. */
  abort(): void {
    if (this.#done) return
    this.#done = true
    this.#controller?.abort(new Error('the client went away'))
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#done) controller.abort(new Error('the client went away'))
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // 1xx informational responses are not relayed; the final one follows.
    if (statusCode < 200 || this.#done) return
    const { exchange } = this
    const route = exchange.route!
    route.upstream.answered(this.#instance)
    const out = upstreamResponseHeaders(headers, route.cors !== undefined)
    out.push('x-request-id', exchange.requestId)
    if (exchange.cors !== undefined) out.push(...exchange.cors)
    if (exchange.gateway.closing && !exchange.http2) out.push('connection', 'close')
    try {
      exchange.res.writeHead(statusCode, out)
    } catch (err) {
      // A header Node will not write (invalid characters): the response cannot be relayed.
      this.#done = true
      controller.abort(err as Error)
      refuse(exchange, new GatewayError('ERR_UPSTREAM_UNAVAILABLE', `${route.upstream.name} sent a response the gateway cannot relay`, { cause: err }))
      return
    }
    this.#responding = true
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#done) return
    const { res } = this.exchange
    if (!res.write(chunk)) {
      controller.pause()
      res.once('drain', () => {
        controller.resume()
      })
    }
  }

  onResponseEnd(): void {
    if (this.#done) return
    this.#done = true
    this.exchange.res.end()
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#done) return
    const { exchange } = this
    if (this.#responding) {
      // Half a response cannot become an error response: the client's stream is cut instead.
      this.#done = true
      this.#recordFailure(err)
      exchange.error = 'ERR_UPSTREAM_UNAVAILABLE'
      exchange.res.destroy()
      return
    }
    if (err instanceof GatewayError) {
      this.#done = true
      refuse(exchange, err)
      return
    }
    const timeout = this.#recordFailure(err)
    const route = exchange.route!
    if (!timeout && this.#attempt < route.retries && this.body === null && IDEMPOTENT.has(exchange.method)) {
      this.#attempt += 1
      ;(this.#tried ??= []).push(this.#instance)
      this.start()
      return
    }
    this.#done = true
    const name = route.upstream.name
    refuse(
      exchange,
      timeout
        ? new GatewayError('ERR_UPSTREAM_TIMEOUT', `${name} did not answer within ${route.timeoutMs} ms`, { cause: err })
        : new GatewayError('ERR_UPSTREAM_UNAVAILABLE', `${name} is unavailable`, { cause: err }),
    )
  }

  /** Counts the failure against the instance; returns whether it was a timeout. */
  #recordFailure(err: Error): boolean {
    const { exchange } = this
    const timeout = TIMEOUTS.has((err as { code?: string }).code)
    const upstream = exchange.route!.upstream
    upstream.failed(this.#instance)
    exchange.gateway.metrics.upstreamError(upstream.name, this.#instance.origin, timeout ? 'timeout' : 'unavailable')
    exchange.gateway.logger.debug({ requestId: exchange.requestId, upstream: this.#instance.origin, err }, 'upstream attempt failed')
    return timeout
  }
}
