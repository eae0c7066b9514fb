import { isScopeToken } from '@meshguard/token'
import { z } from 'zod'
import { integer } from './integer.js'
import { corsOrigin, matchHost, pathPrefix } from './url-checks.js'

/** RFC 9110 §5.6.2 `token`: a header name or method. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const headerName = z
  .string()
  .regex(TOKEN, 'must be a header name')
  .transform((name) => name.toLowerCase())
const method = z.string().regex(/^[A-Z]+$/, 'must be an upper-case method name')

const bucketSchema = z
  .object({
    /** Tokens added per second; may be fractional (0.5 = one request every two seconds). */
    ratePerSec: z.number().positive().max(1_000_000),
    /** Bucket size: requests allowed at once after a quiet spell. Default: `ratePerSec` rounded up. */
    burst: integer(1, 1_000_000).optional(),
  })
  .strict()
  .transform(({ ratePerSec, burst }) => ({ ratePerSec, burst: burst ?? Math.max(1, Math.ceil(ratePerSec)) }))

/**
 * Answered by the gateway for the route: preflights (never forwarded) and the `Access-Control-*`
 * headers of every response (any the upstream sent are replaced).
 */
export const corsSchema = z
  .object({
    /** Exact origins allowed, or `'*'` (not with `credentials`). Required. */
    origins: z.union([z.literal('*'), z.array(corsOrigin).min(1)]),
    methods: z.array(method).min(1).default(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
    /** Request headers a page may send (`Access-Control-Allow-Headers`). */
    headers: z.array(headerName).default(['authorization', 'content-type']),
    /** Response headers a page may read beyond the safelisted ones. */
    exposeHeaders: z.array(headerName).default([]),
    /** `Access-Control-Allow-Credentials: true` (cookies, TLS client certificates). */
    credentials: z.boolean().default(false),
    maxAgeSec: integer(0, 86_400).default(600),
  })
  .strict()
  .superRefine((cors, ctx) => {
    if (cors.origins === '*' && cors.credentials) {
      ctx.addIssue({ code: 'custom', path: ['credentials'], message: "cannot be true with origins '*': list the origins allowed credentials", input: true })
    }
  })

/** Who may call a route: anyone (the request's `Authorization` is forwarded untouched, unread), any valid token, or a token with all these scopes. */
export const policySchema = z.union([
  z.literal('public'),
  z.literal('authenticated'),
  z
    .object({
      scopes: z
        .array(z.string().refine(isScopeToken, 'must be a scope token (RFC 6749 §3.3)'))
        .min(1),
    })
    .strict(),
])

export const routeSchema = z
  .object({
    /** Unique; names the route in logs and metrics. Required. */
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
    match: z
      .object({
        /** Whole-segment prefix of the path; the longest matching prefix wins. Required. */
        pathPrefix,
        /** Only requests for this host (Host or :authority, port ignored); such routes are tried before those without. */
        host: matchHost.optional(),
      })
      .strict(),
    /** A key of `upstreams`. Required. */
    upstream: z.string().min(1),
    /** Remove `pathPrefix` from the path sent upstream (`/api/orders` → `/orders`). */
    stripPrefix: z.boolean().default(false),
    policy: policySchema.default('authenticated'),
    /** The resource server whose tokens the route accepts: `aud` must name it. Required unless the route is public. */
    audience: z.string().min(1).optional(),
    /**
     * How long the upstream may take to send its response headers, and at most between two body
     * chunks; past it, 504. Checked on undici's coarse clock: a timeout fires up to about a second late.
     */
    timeoutMs: integer(1000, 3_600_000).default(30_000),
    /** Further attempts, on other instances, for GET, HEAD, OPTIONS, PUT and DELETE without a body, when no response came. */
    retries: integer(0, 5).default(1),
    /** Larger request bodies get 413. */
    bodyLimitBytes: integer(0, 1024 ** 3).default(1024 ** 2),
    cors: corsSchema.optional(),
    /** Token buckets; a request takes one token from each that applies, else 429 with `Retry-After`. */
    rateLimit: z
      .object({
        /** Per `client_id` of the token (routes that read tokens only). */
        perClient: bucketSchema.optional(),
        /** Per client address (see `listen.trustProxyHops`). */
        perIp: bucketSchema.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine(
    (route, ctx) => {
      // Runs even when another option of the route failed, so that every problem is reported at once.
      const { policy, audience } = route as { policy?: unknown; audience?: unknown }
      if (policy !== 'public' && audience === undefined) {
        ctx.addIssue({ code: 'custom', path: ['audience'], message: 'is required unless the policy is public: it names the resource server whose tokens the route accepts', input: audience })
      }
    },
    { when: ({ value }) => typeof value === 'object' && value !== null },
  )

export type RouteConfig = z.output<typeof routeSchema>
export type RoutePolicy = z.output<typeof policySchema>
export type CorsConfig = z.output<typeof corsSchema>
export type RateLimitConfig = z.output<typeof bucketSchema>
