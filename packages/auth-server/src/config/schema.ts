import { isIP } from 'node:net'
import { signingAlgorithms, type SigningAlgorithm } from '@meshguard/token'
import { z } from 'zod'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** True for `localhost`, `[::1]` and any address in 127.0.0.0/8. */
export function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_HOSTS.has(hostname)) return true
  return isIP(hostname) === 4 && hostname.startsWith('127.')
}

/**
 * RFC 8414 §2: the issuer is an `https` URL without query or fragment. Plain `http` is
 * only accepted on loopback, where a developer runs the whole mesh on one machine.
 */
const issuerSchema = z.string().check((ctx) => {
  let url: URL
  try {
    url = new URL(ctx.value)
  } catch {
    ctx.issues.push({ code: 'custom', message: 'must be an absolute URL', input: ctx.value })
    return
  }
  if (url.search || url.hash || ctx.value.includes('#') || ctx.value.includes('?')) {
    ctx.issues.push({ code: 'custom', message: 'must not have a query or fragment (RFC 8414 §2)', input: ctx.value })
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    ctx.issues.push({
      code: 'custom',
      message: 'must use https unless the host is loopback (localhost, 127.0.0.0/8, [::1])',
      input: ctx.value,
    })
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.issues.push({ code: 'custom', message: 'must be an http(s) URL', input: ctx.value })
  }
  if (url.username || url.password) {
    ctx.issues.push({ code: 'custom', message: 'must not carry credentials', input: ctx.value })
  }
})

/**
 * RFC 8705 §5: the origin clients reach the mutual-TLS listener at. Mutual TLS runs end to end,
 * so no proxy rewrites paths: the endpoints keep the issuer's path, and this is an `https` origin.
 */
const mtlsOriginSchema = z.string().check((ctx) => {
  let url: URL
  try {
    url = new URL(ctx.value)
  } catch {
    ctx.issues.push({ code: 'custom', message: 'must be an absolute URL', input: ctx.value })
    return
  }
  if (url.protocol !== 'https:') ctx.issues.push({ code: 'custom', message: 'must be an https URL', input: ctx.value })
  if (url.pathname !== '/' || url.search || url.hash || ctx.value.includes('#') || ctx.value.includes('?')) {
    ctx.issues.push({ code: 'custom', message: "must be an origin, https://host[:port]: the endpoints keep the issuer's path", input: ctx.value })
  }
  if (url.username || url.password) ctx.issues.push({ code: 'custom', message: 'must not carry credentials', input: ctx.value })
})

const file = z.string().min(1)

/**
 * An integer, given as a number or (from the environment) as a string of digits. Unlike
 * `z.coerce`, `null`, `''` and `' '` are refused rather than read as 0.
 */
const integer = (min: number, max: number) =>
  z
    .union([z.number(), z.string().regex(/^-?\d+$/, 'must be an integer').transform(Number)])
    .pipe(z.number().int().min(min).max(max))
const seconds = integer

export { signingAlgorithms, type SigningAlgorithm }

/**
 * The authorization server's configuration. Every option has a documented default;
 * `docs/configuration.md` lists them with their environment variables.
 */
export const authServerConfigSchema = z
  .object({
    /** Exact issuer identifier. Defaults to `http://<host>:<port>` once listening (loopback only). */
    issuer: issuerSchema.optional(),
    host: z.string().min(1).default('127.0.0.1'),
    port: integer(0, 65535).default(4000),
    /** Directory for the embedded SQLite store and, when none is configured, the key encryption key. */
    dataDir: z.string().min(1).default('.meshguard'),
    /** `postgres://` URL; when set, PostgreSQL holds the state instead of SQLite. */
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    /** 32 bytes, base64url: encrypts signing keys at rest. Generated into the data directory when absent. */
    keyEncryptionKey: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes encoded as base64url (43 characters)')
      .optional(),
    signing: z
      .object({
        algorithm: z.enum(signingAlgorithms).default('ES256'),
        rsaModulusLength: integer(2048, 8192).default(2048),
        /** How long a key signs before the next one takes over. */
        rotationIntervalSec: seconds(60, 366 * 86400).default(30 * 86400),
        /** How long the next key is published before it may sign: longer than any verifier's JWKS cache. */
        publishAheadSec: seconds(0, 30 * 86400).default(15 * 60),
        /** How often each instance re-reads keys from the store, to see rotations made elsewhere. */
        reloadIntervalSec: seconds(1, 3600).default(5),
      })
      .strict()
      .prefault({}),
    tokens: z
      .object({
        accessTokenTtlSec: seconds(30, 86400).default(600),
        /** No access token outlives this; retired keys stay published this long after their last signature. */
        maxAccessTokenTtlSec: seconds(30, 86400).default(3600),
        /** RFC 8693 delegation: how many nested `act` claims a token may carry. */
        maxChainDepth: integer(1, 16).default(4),
        clockToleranceSec: seconds(0, 300).default(30),
      })
      .strict()
      .check((ctx) => {
        if (ctx.value.accessTokenTtlSec > ctx.value.maxAccessTokenTtlSec) {
          ctx.issues.push({
            code: 'custom',
            path: ['accessTokenTtlSec'],
            message: 'must not exceed tokens.maxAccessTokenTtlSec',
            input: ctx.value.accessTokenTtlSec,
          })
        }
      })
      .prefault({}),
    state: z
      .object({
        /** How often clients, scopes and revocations are re-read from the store into memory. */
        refreshIntervalSec: seconds(1, 60).default(1),
        /** Past this age without a successful re-read, every lookup goes to the store (fail closed). */
        maxStaleSec: seconds(2, 600).default(10),
      })
      .strict()
      .prefault({}),
    /**
     * The security tier the server runs in. `high` requires PKCE of every client using the
     * authorization code grant, confidential ones included; below it only public clients must.
     */
    tier: z.enum(['low', 'medium', 'high']).default('high'),
    /** End users: authorization codes, sign-in sessions and the tokens issued for them. */
    authorization: z
      .object({
        /** An authorization code must be redeemed within this (RFC 6749 §4.1.2: at most 10 minutes). */
        codeTtlSec: seconds(10, 600).default(60),
        /** How long a user has to sign in and consent once `/authorize` was called. */
        interactionTtlSec: seconds(60, 3600).default(600),
        /** A sign-in session's absolute lifetime; grants without `offline_access` end with it. */
        sessionTtlSec: seconds(300, 30 * 86400).default(8 * 3600),
        /** A refresh token unused for this long expires (sliding). */
        refreshTokenIdleTtlSec: seconds(300, 365 * 86400).default(14 * 86400),
        /** An `offline_access` grant's absolute lifetime: no refresh token outlives it. */
        offlineGrantTtlSec: seconds(3600, 365 * 86400).default(30 * 86400),
        idTokenTtlSec: seconds(60, 86400).default(3600),
      })
      .strict()
      .prefault({}),
    clientAssertion: z
      .object({
        /** RFC 7523 §3: assertions must expire; this bounds how far ahead `exp` may be. */
        maxLifetimeSec: seconds(10, 3600).default(300),
      })
      .strict()
      .prefault({}),
    /**
     * RFC 8705: a second listener, over TLS with client certificates, serving the same endpoints.
     * Clients authenticate there with `tls_client_auth` and get certificate-bound tokens. Unset: none.
     */
    mtls: z
      .object({
        port: integer(0, 65535).default(4443),
        /** Defaults to `host`. */
        host: z.string().min(1).optional(),
        /** Where clients reach the listener, for `mtls_endpoint_aliases`; the issuer's path follows it. Default `https://<mtls.host>:<port>` (loopback only). */
        origin: mtlsOriginSchema.optional(),
        /** The server's certificate chain, PEM. */
        certFile: file,
        /** Its private key, PEM. */
        keyFile: file,
        /** The trust bundle client certificates must chain to, PEM. */
        caFile: file,
        /** CRLs, PEM, one for each CA of a client's chain. */
        crlFile: file.optional(),
        /** How often the files are re-read; changes apply to new connections without a restart. */
        reloadIntervalSec: seconds(1, 86400).default(10),
      })
      .strict()
      .optional(),
    /**
     * Redis, for pushing revocations to every gateway and verifier that subscribes: each one is
     * published on `<keyPrefix>revocations` and kept in the sorted set `<keyPrefix>revoked` until
     * its token expires. Unset: revocations travel only by the SSE stream and the store.
     */
    redis: z
      .object({
        /** `redis://` or `rediss://` (TLS), with credentials and database if needed. Required. */
        url: z.string().regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL'),
        /** Prefix of the channel and keys; the same on the gateways. */
        keyPrefix: z
          .string()
          .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1-64 letters, digits, ":", ".", "_" or "-"')
          .default('meshguard:'),
      })
      .strict()
      .optional(),
    http: z
      .object({
        bodyLimitBytes: integer(1024, 1048576).default(16384),
        trustProxy: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((config) => config.issuer !== undefined || isLoopbackHost(config.host), {
    path: ['issuer'],
    message: 'is required when the server listens on a non-loopback host: clients must know its exact public URL',
    // Runs even when other options failed, so every problem is reported at once.
    when: ({ value }) => {
      const { host, issuer } = value as { host?: unknown; issuer?: unknown }
      return typeof host === 'string' && issuer === undefined
    },
  })
  .refine(({ host, mtls }) => mtls?.origin !== undefined || isLoopbackHost(mtls?.host ?? host), {
    path: ['mtls', 'origin'],
    message: 'is required when the mutual-TLS listener is on a non-loopback host: clients must know where to reach it',
    when: ({ value }) => {
      const { host, mtls } = value as { host?: unknown; mtls?: { host?: unknown; origin?: unknown } }
      return typeof host === 'string' && isPlainObject(mtls) && mtls.origin === undefined && (mtls.host === undefined || typeof mtls.host === 'string')
    },
  })
  .refine(({ host, port, mtls }) => mtls === undefined || mtls.port === 0 || mtls.port !== port || (mtls.host ?? host) !== host, {
    path: ['mtls', 'port'],
    message: 'must differ from port',
    when: ({ value }) => {
      const { port, mtls } = value as { port?: unknown; mtls?: { port?: unknown } }
      return typeof port === 'number' && isPlainObject(mtls) && typeof mtls.port === 'number'
    },
  })

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export type AuthServerConfigInput = z.input<typeof authServerConfigSchema>
export type AuthServerConfig = z.output<typeof authServerConfigSchema>
