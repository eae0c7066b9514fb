import autocannon from 'autocannon'

export interface LoadOptions {
  url: string
  /** `Authorization` header sent with every request. */
  authorization: string
  /** Form-urlencoded body sent with every request. */
  body: string
  connections: number
  warmupSec: number
  durationSec: number
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
}

/**
 * POSTs the same form at `url` from `connections` keep-alive connections: a warm-up run
 * whose figures are dropped, then the measured run.
 *
 * @example
 * const tokens = await measureLoad({ url, authorization, body: 'grant_type=client_credentials', connections: 50, warmupSec: 2, durationSec: 10 })
 */
export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  const run = (durationSec: number) =>
    autocannon({
      url: options.url,
      method: 'POST',
      connections: options.connections,
      duration: durationSec,
      headers: { authorization: options.authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: options.body,
    })
  const warmup = await run(options.warmupSec)
  const measured = await run(options.durationSec)
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
  }
}

