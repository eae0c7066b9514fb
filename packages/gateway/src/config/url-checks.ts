import { isIP } from 'node:net'
import { z } from 'zod'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** True for `localhost`, `[::1]` and any address in 127.0.0.0/8. */
export function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_HOSTS.has(hostname)) return true
  return isIP(hostname) === 4 && hostname.startsWith('127.')
}

type Issues = z.core.$RefinementCtx<string>

function parseUrl(value: string, ctx: Issues): URL | undefined {
  try {
    return new URL(value)
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL', input: value })
    return undefined
  }
}

/**
 * An URL the gateway fetches keys or events from, or the exact issuer: `https`, or `http` on
 * loopback only (as the authorization server's own `issuer`), no credentials, no fragment.
 * `query` says whether a query is acceptable (RFC 8414 §2 forbids one in the issuer).
 */
export const secureUrl = (options: { query: boolean }) =>
  z.string().superRefine((value, ctx) => {
    const url = parseUrl(value, ctx)
    if (url === undefined) return
    if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL', input: value })
    else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      ctx.addIssue({ code: 'custom', message: 'must use https unless the host is loopback (localhost, 127.0.0.0/8, [::1])', input: value })
    }
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry credentials', input: value })
    if (url.hash || value.includes('#')) ctx.addIssue({ code: 'custom', message: 'must not have a fragment', input: value })
    if (!options.query && (url.search || value.includes('?'))) {
      ctx.addIssue({ code: 'custom', message: 'must not have a query (RFC 8414 §2)', input: value })
    }
  })

/** An upstream instance: an `http(s)` origin with an optional base path; no query, fragment or credentials. */
export const instanceUrl = z.string().superRefine((value, ctx) => {
  const url = parseUrl(value, ctx)
  if (url === undefined) return
  if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL', input: value })
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry credentials', input: value })
  if (url.search || url.hash || value.includes('?') || value.includes('#')) {
    ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment', input: value })
  }
})

/** A CORS origin (RFC 6454 §6.2): `scheme://host[:port]`, nothing more. */
export const corsOrigin = z.string().superRefine((value, ctx) => {
  const url = parseUrl(value, ctx)
  if (url === undefined) return
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== value) {
    ctx.addIssue({ code: 'custom', message: 'must be an exact origin such as https://app.example.com (scheme, host, optional port; no path or trailing slash)', input: value })
  }
})

/** The gateway's own paths; no route may use them. */
export const RESERVED_PREFIX = '/-/'

/**
 * A route's path prefix: starts with `/`, no trailing `/` (except `/` itself), no empty, `.`
 * or `..` segments, only unreserved and sub-delim characters (RFC 3986 §3.3, without `%`, so
 * a prefix means one thing whoever decodes the path), and outside the gateway's reserved `/-/`.
 */
export const pathPrefix = z.string().superRefine((value, ctx) => {
  const problem = prefixProblem(value)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: value })
})

const SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]+$/

function prefixProblem(value: string): string | undefined {
  if (!value.startsWith('/')) return 'must start with /'
  if (value === '/') return undefined
  if (value.endsWith('/')) return 'must not end with / (a prefix matches whole segments: /api matches /api and /api/x, not /apix)'
  if (value === '/-' || value.startsWith(RESERVED_PREFIX)) return `must not use ${RESERVED_PREFIX}, reserved for the gateway's health and metrics`
  for (const segment of value.slice(1).split('/')) {
    if (segment === '') return 'must not contain an empty segment (//)'
    if (segment === '.' || segment === '..') return 'must not contain . or .. segments'
    if (!SEGMENT.test(segment)) return 'may only contain unreserved and sub-delim characters (RFC 3986 §3.3), no %, ? or #'
  }
  return undefined
}

/** A host name to match (`api.example.com`), lower case, without port. */
export const matchHost = z
  .string()
  .regex(/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'must be a lower-case host name without port')
