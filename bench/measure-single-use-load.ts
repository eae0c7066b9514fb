import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'
import { usageBetween, type ServerUsage } from './server-process.js'

export interface SingleUseLoadOptions {
  url: string
  /** Sent with every request. */
  headers: Record<string, string>
  /** One `POST` body per request: each is sent once, in order, and the run ends after the last. */
  bodies: readonly string[]
  connections: number
  /** Called with every response's status and body, e.g. to keep the refresh token it carries. */
  onResponse?: ((status: number, body: string) => void) | undefined
  /** The server's running totals (see `ServerProcess.sample`): sampled either side of the run. */
  sampleServer?: (() => Promise<ServerUsage>) | undefined
}

export interface SingleUseResult {
  /** 200 responses per second, from the start of the run to its last response. */
  perSecond: number
  /** Latency of the 2xx responses, milliseconds (autocannon: whole milliseconds). */
  p50Ms: number
  p99Ms: number
  seconds: number
  /** 200 responses. */
  responses: number
  /** Bodies sent: `bodies.length` unless autocannon built more or fewer requests than asked. */
  sent: number
  /** Connection errors and timeouts. */
  errors: number
  /** Responses with any status but 200, another 2xx included. */
  non200: number
  statusCodes: Record<string, number>
  /** What the server spent during the run, when `sampleServer` was given. */
  server?: ServerUsage | undefined
}

/**
 * Sends each of `bodies` once, from `connections` keep-alive connections, for credentials that
 * are spent when used (authorization codes, rotated refresh tokens): a request that carried one
 * is never repeated, and a reconnect moves on to the next body.
 *
 * @example
 * const run = await measureSingleUseLoad({ url, headers, bodies: codes.map(codeRedemptionBody), connections: 50 })
 */
export async function measureSingleUseLoad(options: SingleUseLoadOptions): Promise<SingleUseResult> {
  if (options.bodies.length === 0) {
    return { perSecond: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, seconds: 0, responses: 0, sent: 0, errors: 0, non200: 0, statusCodes: {} }
  }
  let next = 0
  let lastResponse = 0
  const onResponse = (status: number, body: string) => {
    lastResponse = performance.now()
    options.onResponse?.(status, body)
  }
  // autocannon's own `duration` is rounded up to its 1 s sampling interval once `amount` is done.
  const before = await options.sampleServer?.()
  const start = performance.now()
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    connections: Math.min(options.connections, options.bodies.length),
    amount: options.bodies.length,
    headers: options.headers,
    requests: [
      {
        // Called once per request, as it is built; autocannon builds exactly `amount` of them.
        setupRequest: (request) => ({ ...request, body: options.bodies[next++] ?? '' }),
        onResponse,
      },
    ],
  })
  const after = await options.sampleServer?.()
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]))
  const responses = statusCodes['200'] ?? 0
  const all = Object.values(statusCodes).reduce((sum, count) => sum + count, 0)
  const seconds = (lastResponse - start) / 1000
  return {
    perSecond: responses / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    seconds,
    responses,
    sent: next,
    errors: result.errors,
    non200: all - responses,
    statusCodes,
    server: before && after && usageBetween(before, after),
  }
}
