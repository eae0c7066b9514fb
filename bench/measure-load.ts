import autocannon from 'autocannon'
import { usageBetween, type ServerUsage } from './server-process.js'

export interface LoadOptions {
  url: string
  method: 'GET' | 'POST'
  /** Sent with every request. */
  headers: Record<string, string>
  /** Sent with every request, when given. */
  body?: string | undefined
  connections: number
  warmupSec: number
  durationSec: number
  /** The server's running totals (see `ServerProcess.sample`): sampled either side of the measured run. */
  sampleServer?: (() => Promise<ServerUsage>) | undefined
  /** For a proxy, the upstream behind it: sampled at the same moments. */
  sampleUpstream?: (() => Promise<ServerUsage>) | undefined
}

/** The measured run's figures; failures count the warm-up too. */
export interface LoadResult {
  /** 2xx responses per second of the measured run. */
  perSecond: number
  /** Latency of 2xx responses, milliseconds. */
  p50Ms: number
  p99Ms: number
  /** 2xx responses in the measured run. */
  responses: number
  /** Connection errors and timeouts (autocannon counts a timeout as an error too). */
  errors: number
  non2xx: number
  /** Status code of every response, with counts. */
  statusCodes: Record<string, number>
  /** What the server spent and served during the measured run, when `sampleServer` was given. */
  server?: ServerUsage | undefined
  /** What the upstream spent and served during the measured run, when `sampleUpstream` was given. */
  upstream?: ServerUsage | undefined
}

/**
 * Sends the same request at `url` from `connections` keep-alive connections: a warm-up run
 * whose figures are dropped, then the measured run.
 *
 * @example
 * const tokens = await measureLoad({
 *   url, method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
 *   body: 'grant_type=client_credentials', connections: 50, warmupSec: 2, durationSec: 10,
 * })
 */
export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  const run = (durationSec: number) =>
    autocannon({
      url: options.url,
      method: options.method,
      connections: options.connections,
      duration: durationSec,
      headers: options.headers,
      ...(options.body === undefined ? {} : { body: options.body }),
    })
  const warmup = await run(options.warmupSec)
  const sample = () => Promise.all([options.sampleServer?.(), options.sampleUpstream?.()])
  const [before, upstreamBefore] = await sample()
  const measured = await run(options.durationSec)
  const [after, upstreamAfter] = await sample()
  const statusCodes: Record<string, number> = {}
  for (const result of [warmup, measured]) {
    for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = (statusCodes[code] ?? 0) + count
  }
  return {
    perSecond: measured['2xx'] / measured.duration,
    p50Ms: measured.latency.p50,
    p99Ms: measured.latency.p99,
    responses: measured['2xx'],
    errors: warmup.errors + measured.errors,
    non2xx: warmup.non2xx + measured.non2xx,
    statusCodes,
    server: before && after && usageBetween(before, after),
    upstream: upstreamBefore && upstreamAfter && usageBetween(upstreamBefore, upstreamAfter),
  }
}
