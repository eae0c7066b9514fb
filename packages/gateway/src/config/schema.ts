import { z } from 'zod'
import { integer } from './integer.js'
import { introspectionSchema } from './introspection-schema.js'
import { redisSchema } from './redis-schema.js'
import { routeSchema } from './route-schema.js'
import { upstreamSchema } from './upstream-schema.js'
import { secureUrl } from './url-checks.js'

const listenSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    /** `0` picks a free port. */
    port: integer(0, 65535).default(8080),
    /** TLS at the edge; with it, HTTP/2 (and HTTP/1.1 for clients that do not offer h2). Unset: plain HTTP/1.1. */
    tls: z
      .object({
        /** The certificate chain, PEM. Required. */
        certFile: z.string().min(1),
        /** Its private key, PEM. Required. */
        keyFile: z.string().min(1),
        /** Offer HTTP/2 by ALPN; HTTP/1.1 stays available. */
        http2: z.boolean().default(true),
      })
      .strict()
      .optional(),
    /**
     * How many proxies in front of the gateway append to `X-Forwarded-For`: the client's address
     * is taken that many entries from the right, and the incoming `X-Forwarded-*` are kept.
     * `0`: the gateway is the edge; client-sent `X-Forwarded-*` are dropped.
     */
    trustProxyHops: integer(0, 10).default(0),
    /** Idle time before a client's keep-alive connection is closed. */
    keepAliveTimeoutMs: integer(100, 600_000).default(5000),
    /** Time allowed for a client to send its request headers (slow-loris guard). */
    headersTimeoutMs: integer(1000, 600_000).default(10_000),
    /** Time allowed for a client to send its whole request, body included; 0 disables. */
    requestTimeoutMs: integer(0, 3_600_000).default(300_000),
  })
  .strict()

const tokensSchema = z
  .object({
    /** Leeway for `exp`, `nbf` and `iat`. */
    clockToleranceSec: integer(0, 300).default(30),
    /** Verified tokens kept in memory; 0 verifies every request. */
    cacheSize: integer(0, 10_000_000).default(10_000),
    /** Background refresh of the issuer's keys. */
    jwksRefreshIntervalMs: integer(1000, 86_400_000).default(300_000),
    /** The last good key set is used this long while the JWKS cannot be fetched; past it, 503 (fail closed). */
    jwksMaxStaleMs: integer(1000, 86_400_000).default(3_600_000),
    /** At most one refetch of the JWKS for unknown `kid`s per this window. */
    jwksUnknownKidCooldownMs: integer(1, 3_600_000).default(30_000),
    /** `realm` of the `WWW-Authenticate: Bearer` challenges. */
    realm: z.string().regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/, 'must be printable ASCII without " or \\').default('meshguard'),
  })
  .strict()

/**
 * The gateway's configuration. Every option has a documented default (on its TSDoc here and in
 * the package README); unknown keys are refused at every level.
 */
export const gatewayConfigSchema = z
  .object({
    listen: listenSchema.prefault({}),
    /** The exact `iss` of accepted tokens; `https` unless loopback. Required. */
    issuer: secureUrl({ query: false }),
    /** Default: `<issuer>/.well-known/jwks.json`. */
    jwksUri: secureUrl({ query: true }).optional(),
    /** The issuer's revocation event stream; with it, revoked tokens are refused within moments. Unset: none. */
    revocationEventsUri: secureUrl({ query: true }).optional(),
    tokens: tokensSchema.prefault({}),
    /** The phantom-token exchange for opaque tokens. Unset: only JWTs are accepted. */
    introspection: introspectionSchema.optional(),
    /** State shared by every gateway instance. Unset: each instance keeps its own, in memory. */
    redis: redisSchema.optional(),
    /** Upstream services by name. Required, at least one. */
    upstreams: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'), upstreamSchema),
    /** Required, at least one. */
    routes: z.array(routeSchema).min(1),
    log: z
      .object({
        /** pino level of the logger the gateway makes when none is given. */
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** One `info` line per request. */
        accessLog: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Serve Prometheus metrics at `/-/metrics` on the edge listener (off: the listener is public). */
    exposeMetrics: z.boolean().default(false),
    /** On `close()`, how long in-flight requests may take before their connections are cut. */
    drainTimeoutMs: integer(0, 600_000).default(30_000),
  })
  .strict()
  .superRefine(crossCheck, { when: ({ value }) => typeof value === 'object' && value !== null })
  .transform(({ introspection, ...config }) => {
    const issuer = config.issuer.replace(/\/$/, '')
    return {
      ...config,
      jwksUri: config.jwksUri ?? `${issuer}/.well-known/jwks.json`,
      ...(introspection && { introspection: { ...introspection, endpoint: introspection.endpoint ?? `${issuer}/oauth2/introspect` } }),
    }
  })

/**
 * The checks across options: every route's upstream exists, route names are unique, no two
 * routes match the same host and prefix. Runs even when other options failed, on whatever
 * could be read, so that every problem is reported at once.
 */
function crossCheck(value: unknown, ctx: z.core.$RefinementCtx): void {
  const { upstreams, routes } = value as { upstreams?: unknown; routes?: unknown }
  if (!Array.isArray(routes)) return
  const names = new Set<string>()
  const matches = new Set<string>()
  for (const [index, route] of (routes as unknown[]).entries()) {
    if (typeof route !== 'object' || route === null) continue
    const { name, upstream, match } = route as { name?: unknown; upstream?: unknown; match?: { pathPrefix?: unknown; host?: unknown } }
    if (typeof name === 'string') {
      if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['routes', index, 'name'], message: `"${name}" is the name of an earlier route`, input: name })
      names.add(name)
    }
    if (typeof upstream === 'string' && typeof upstreams === 'object' && upstreams !== null && !Object.hasOwn(upstreams, upstream)) {
      ctx.addIssue({ code: 'custom', path: ['routes', index, 'upstream'], message: `"${upstream}" is not one of upstreams`, input: upstream })
    }
    if (typeof match?.pathPrefix === 'string') {
      const key = `${typeof match.host === 'string' ? match.host : '*'} ${match.pathPrefix}`
      if (matches.has(key)) {
        ctx.addIssue({ code: 'custom', path: ['routes', index, 'match'], message: 'matches the same host and path prefix as an earlier route', input: match })
      }
      matches.add(key)
    }
  }
}

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>
export type GatewayConfig = z.output<typeof gatewayConfigSchema>
export type ListenConfig = GatewayConfig['listen']
export type TokensConfig = GatewayConfig['tokens']
export type IntrospectionConfig = NonNullable<GatewayConfig['introspection']>
export type RedisConfig = NonNullable<GatewayConfig['redis']>
export type { RouteConfig, RoutePolicy, CorsConfig, RateLimitConfig } from './route-schema.js'
export type { UpstreamConfig, UpstreamTlsConfig } from './upstream-schema.js'
