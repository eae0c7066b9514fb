import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** The server's Prometheus metrics, in a registry of its own so instances never share counters. */
export class Metrics {
  readonly registry = new Registry()
  readonly tokensIssued = new Counter({
    name: 'meshguard_tokens_issued_total',
    help: 'Access tokens issued, by grant type.',
    labelNames: ['grant_type'] as const,
    registers: [this.registry],
  })
  readonly oauthErrors = new Counter({
    name: 'meshguard_oauth_errors_total',
    help: 'OAuth error responses, by endpoint and RFC 6749 error code.',
    labelNames: ['endpoint', 'error'] as const,
    registers: [this.registry],
  })
  readonly introspections = new Counter({
    name: 'meshguard_introspections_total',
    help: 'Introspection requests, by whether the token was active.',
    labelNames: ['active'] as const,
    registers: [this.registry],
  })
  readonly revocations = new Counter({
    name: 'meshguard_revocations_total',
    help: 'Tokens revoked.',
    registers: [this.registry],
  })
  readonly requestDuration = new Histogram({
    name: 'meshguard_http_request_duration_seconds',
    help: 'HTTP request duration, by route and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  })

  readonly #durationByRoute = new Map<string, { observe(value: number): void }>()

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'meshguard_' })
  }

  /** Records one request's duration; the labelled series is looked up once per route, method and status. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`
    let series = this.#durationByRoute.get(key)
    if (series === undefined) {
      series = this.requestDuration.labels({ route, method, status: String(status) })
      this.#durationByRoute.set(key, series)
    }
    series.observe(seconds)
  }
}
