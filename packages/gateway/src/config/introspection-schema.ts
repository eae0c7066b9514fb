import { z } from 'zod'
import { integer } from './integer.js'
import { secureUrl } from './url-checks.js'

const required = (what: string) => (issue: { input: unknown }) => (issue.input === undefined ? `required: ${what}` : undefined)

/**
 * The phantom-token exchange: opaque (reference) tokens are swapped for the JWT they stand for at
 * the authorization server's introspection endpoint (`Accept: application/jwt`), the gateway
 * authenticating as its own client with `client_secret_basic`. Unset: only JWTs are accepted.
 */
export const introspectionSchema = z
  .object({
    /** The gateway's client, registered with `phantomTokens` (`meshguard client create --phantom-tokens`). Required. */
    clientId: z.string({ error: required('the gateway client id (or MESHGUARD_GATEWAY_CLIENT_ID)') }).min(1),
    /** Its secret. Required, here or in `MESHGUARD_GATEWAY_CLIENT_SECRET`. */
    clientSecret: z.string({ error: required('the gateway client secret (or MESHGUARD_GATEWAY_CLIENT_SECRET)') }).min(1),
    /** Default: `<issuer>/oauth2/introspect`. */
    endpoint: secureUrl({ query: true }).optional(),
    /** Time allowed for one exchange, connection included; past it, 503 (fail closed). */
    timeoutMs: integer(100, 60_000).default(2000),
    /** Exchanged tokens kept in this instance's memory, each until its JWT expires. */
    cacheSize: integer(1, 10_000_000).default(10_000),
    /** Exchanges of distinct tokens in flight at once; past it, new ones get 503 (a flood of made-up tokens cannot queue without end). */
    maxPending: integer(1, 100_000).default(1000),
  })
  .strict()
