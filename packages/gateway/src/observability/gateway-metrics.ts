import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** Why a request was allowed or refused at the token check: `public`, `allowed`, or a `VerificationError` code. */
export type AuthDecision = string

/**
 * How an opaque token not in this instance's memory was resolved: from the cache shared through
 * Redis, by introspection, found `inactive`, or not at all (`failed`: introspection or Redis
 * unreachable, or the JWT refused by the verifier).
 */
export type PhantomOutcome = 'shared' | 'introspected' | 'inactive' | 'failed'

/** What went wrong with an upstream: `unavailable` (connection, TLS, reset) or `timeout`. */
export type UpstreamErrorKind = 'unavailable' | 'timeout'

/**
 * The gateway's Prometheus metrics, in the registry given:
 *
 * - `meshguard_gateway_request_duration_seconds{route,status}`: histogram of every request
 *   answered on a route, from its arrival to the last byte of the response; its `_count` is the
 *   request count. Requests matching no route have `route="-"`.
 * - `meshguard_gateway_auth_decisions_total{route,decision}`: `public`, `allowed`, or the refusal
 *   code (`ERR_TOKEN_EXPIRED`, `ERR_INSUFFICIENT_SCOPE`, `ERR_JWKS_UNAVAILABLE`…).
 * - `meshguard_gateway_upstream_errors_total{upstream,instance,kind}`: failed attempts.
 * - `meshguard_gateway_rate_limited_total{route,limit}`: 429s, by `per_client` or `per_ip`.
 * - `meshguard_gateway_requests_in_flight`.
 * - `meshguard_gateway_phantom_exchanges_total{outcome}`: opaque tokens not in memory, by {@link PhantomOutcome}.
 * - `meshguard_gateway_rate_limit_fallbacks_total`: rate limits taken from this instance's buckets because Redis could not be asked.
 * - `meshguard_gateway_redis_connected`: 1 while both Redis connections are up (only with `redis`).
 */
export class GatewayMetrics {
  readonly #duration: Histogram<'route' | 'status'>
  readonly #auth: Counter<'route' | 'decision'>
  readonly #upstreamErrors: Counter<'upstream' | 'instance' | 'kind'>
  readonly #rateLimited: Counter<'route' | 'limit'>
  readonly #phantomExchanges: Counter<'outcome'>
  readonly #rateLimitFallbacks: Counter
  /** @param inFlight read when metrics are collected, not counted per request */
  constructor(
    readonly registry: Registry,
    inFlight: () => number,
  ) {
    const registers = [registry]
    this.#duration = new Histogram({
      name: 'meshguard_gateway_request_duration_seconds',
      help: 'Requests by route and status: time from arrival to the end of the response.',
      labelNames: ['route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    this.#auth = new Counter({ name: 'meshguard_gateway_auth_decisions_total', help: 'Token checks by route and outcome.', labelNames: ['route', 'decision'], registers })
    this.#upstreamErrors = new Counter({
      name: 'meshguard_gateway_upstream_errors_total',
      help: 'Failed attempts to reach an upstream instance.',
      labelNames: ['upstream', 'instance', 'kind'],
      registers,
    })
    this.#rateLimited = new Counter({ name: 'meshguard_gateway_rate_limited_total', help: 'Requests refused by a rate limit.', labelNames: ['route', 'limit'], registers })
    this.#phantomExchanges = new Counter({
      name: 'meshguard_gateway_phantom_exchanges_total',
      help: 'Opaque tokens not in this instance’s memory, by how they were resolved.',
      labelNames: ['outcome'],
      registers,
    })
    this.#rateLimitFallbacks = new Counter({
      name: 'meshguard_gateway_rate_limit_fallbacks_total',
      help: 'Rate limits taken from this instance’s own buckets because Redis could not be asked.',
      registers,
    })
    new Gauge({
      name: 'meshguard_gateway_requests_in_flight',
      help: 'Requests being handled.',
      registers,
      collect() {
        this.set(inFlight())
      },
    })
  }

  request(route: string, status: number, seconds: number): void {
    this.#duration.observe({ route, status }, seconds)
  }

  authDecision(route: string, decision: AuthDecision): void {
    this.#auth.inc({ route, decision })
  }

  upstreamError(upstream: string, instance: string, kind: UpstreamErrorKind): void {
    this.#upstreamErrors.inc({ upstream, instance, kind })
  }

  rateLimited(route: string, limit: 'per_client' | 'per_ip'): void {
    this.#rateLimited.inc({ route, limit })
  }

  phantomExchange(outcome: PhantomOutcome): void {
    this.#phantomExchanges.inc({ outcome })
  }

  rateLimitFallback(): void {
    this.#rateLimitFallbacks.inc()
  }

  /** Registers `meshguard_gateway_redis_connected`, read from `connected` when metrics are collected. */
  watchRedis(connected: () => boolean): void {
    new Gauge({
      name: 'meshguard_gateway_redis_connected',
      help: '1 while both connections to Redis are up.',
      registers: [this.registry],
      collect() {
        this.set(connected() ? 1 : 0)
      },
    })
  }
}
