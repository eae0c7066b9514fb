import type { CorsConfig } from '../config/schema.js'
import { GatewayError } from '../errors.js'

/** A route's CORS settings, with the header values worked out once. */
export interface CompiledCors {
  readonly anyOrigin: boolean
  readonly origins: ReadonlySet<string>
  readonly methods: ReadonlySet<string>
  readonly headers: ReadonlySet<string>
  readonly allowMethods: string
  readonly allowHeaders: string
  readonly exposeHeaders: string
  readonly credentials: boolean
  readonly maxAge: string
}

export function compileCors(config: CorsConfig): CompiledCors {
  return {
    anyOrigin: config.origins === '*',
    origins: new Set(config.origins === '*' ? [] : config.origins),
    methods: new Set(config.methods),
    headers: new Set(config.headers),
    allowMethods: config.methods.join(', '),
    allowHeaders: config.headers.join(', '),
    exposeHeaders: config.exposeHeaders.join(', '),
    credentials: config.credentials,
    maxAge: String(config.maxAgeSec),
  }
}

/**
 * The `Access-Control-*` headers for a response to `origin` (Fetch §3.2.5), or none when the
 * origin is not allowed (the browser then keeps the response from the page). `Vary: Origin`
 * whenever the answer depends on the origin.
 */
export function corsResponseHeaders(cors: CompiledCors, origin: string | undefined): string[] | undefined {
  if (origin === undefined) return cors.anyOrigin ? undefined : ['vary', 'Origin']
  if (cors.anyOrigin) return cors.exposeHeaders === '' ? ['access-control-allow-origin', '*'] : ['access-control-allow-origin', '*', 'access-control-expose-headers', cors.exposeHeaders]
  if (!cors.origins.has(origin)) return ['vary', 'Origin']
  const headers = ['access-control-allow-origin', origin, 'vary', 'Origin']
  if (cors.credentials) headers.push('access-control-allow-credentials', 'true')
  if (cors.exposeHeaders !== '') headers.push('access-control-expose-headers', cors.exposeHeaders)
  return headers
}

/**
 * The headers of the gateway's answer to a CORS preflight (Fetch §3.2.2): the origin, method and
 * request headers must all be allowed.
 *
 * @throws GatewayError `ERR_CORS_REFUSED`, naming what is not allowed
 */
export function preflightHeaders(cors: CompiledCors, origin: string, method: string, requestHeaders: string | undefined): string[] {
  if (!cors.anyOrigin && !cors.origins.has(origin)) throw new GatewayError('ERR_CORS_REFUSED', `origin ${origin} is not allowed`)
  if (!cors.methods.has(method)) throw new GatewayError('ERR_CORS_REFUSED', `method ${method} is not allowed`)
  if (requestHeaders !== undefined) {
    for (const token of requestHeaders.split(',')) {
      const name = token.trim().toLowerCase()
      if (name !== '' && !cors.headers.has(name)) throw new GatewayError('ERR_CORS_REFUSED', `request header ${name} is not allowed`)
    }
  }
  const headers = [
    'access-control-allow-origin',
    cors.anyOrigin ? '*' : origin,
    'access-control-allow-methods',
    cors.allowMethods,
    'access-control-max-age',
    cors.maxAge,
    'vary',
    'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  ]
  if (cors.allowHeaders !== '') headers.push('access-control-allow-headers', cors.allowHeaders)
  if (cors.credentials) headers.push('access-control-allow-credentials', 'true')
  return headers
}
