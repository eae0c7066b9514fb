/**
 * The parts of two untyped dependencies that the benchmark uses. Neither package ships
 * declarations and no `@types` package is installed, so these are kept to what is called.
 */

declare module 'autocannon' {
  /** Options of a programmatic run (see the autocannon README, "API"). */
  export interface Options {
    url: string
    connections?: number
    /** Seconds. */
    duration?: number
    method?: 'GET' | 'POST'
    headers?: Record<string, string>
    body?: string
    pipelining?: number
    /** Seconds before a request counts as timed out. */
    timeout?: number
  }

  /** A histogram summary; latencies are in milliseconds. */
  export interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p99: number
  }

  export interface Result {
    /** Seconds. */
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
    latency: Histogram
    requests: Histogram
    statusCodeStats: Record<string, { count: number }>
  }

  /** Runs a load test; resolves when it is over. */
  export default function autocannon(options: Options): Promise<Result>
}

declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  /** The provider configuration (see the oidc-provider docs, "Configuration options"). */
  export type Configuration = Record<string, unknown>

  export class Provider {
    constructor(issuer: string, configuration?: Configuration)
    /** A request listener for `http.createServer`. */
    callback(): (request: IncomingMessage, response: ServerResponse) => void
  }

  export const errors: {
    InvalidTarget: new (description?: string) => Error
  }

  export default Provider
}
