import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { OpenApiDocument, RequestAuth, VerifiedToken } from '@meshguard/service-kit'
import type { Peers } from './peers.js'

/** An OpenAPI 3 document as the demo services write theirs: what the kit reads, and the rest. */
export interface ServiceOpenApi extends OpenApiDocument {
  info: { title: string; version: string; description?: string }
  components?: Record<string, unknown>
}

/** One demo HTTP service: its OpenAPI document, from which the kit authorises every route, and its routes. */
export interface HttpServiceDefinition {
  readonly name: string
  readonly openApi: ServiceOpenApi
  /** Adds the routes; called once per start, so the in-memory data is each instance's own. */
  routes(app: FastifyInstance, peers: Peers): void
}

/** What a service saw of one call: who, with which scopes, through which tokens. */
export interface Sighting {
  service: string
  /** From the caller's token (`Authorization`). */
  subject: string | null
  clientId: string | null
  scopes: string[]
  /** The delegation chain, outermost actor first. */
  act: string[]
  /** Whether the caller's token was addressed upstream and forwarded here (seed 004). */
  forwarded: boolean
  /** Whether the caller's token is bound to a client certificate (RFC 8705). */
  certificateBound: boolean
  grantedBy: RequestAuth['grantedBy']
  /** The `X-Scope-Token`, when one was sent and valid. */
  scopeToken: { clientId: string; scopes: string[]; certificateBound: boolean } | null
}

/** The kit's verdict on a request the service's handlers run for: never null past `meshguardFastify`. */
export function authOf(request: FastifyRequest): RequestAuth {
  if (request.meshguard === null) throw new Error('meshguardFastify is not registered on this instance')
  return request.meshguard
}

/** The caller's token as presented, to forward or exchange; protected routes always have one. */
export function callerTokenOf(request: FastifyRequest): string {
  const token = authOf(request).callerToken
  if (token === undefined) throw new Error(`${request.method} ${request.url} is public: it has no caller token to pass on`)
  return token
}

/** What this service saw of the request, for its answer. */
export function sightingOf(service: string, request: FastifyRequest): Sighting {
  const { caller, scopeToken, grantedBy } = authOf(request)
  return {
    service,
    subject: caller?.subject ?? null,
    clientId: caller?.clientId ?? null,
    scopes: caller ? [...caller.scopes] : [],
    act: caller ? [...caller.chain] : [],
    forwarded: caller?.forwarded ?? false,
    certificateBound: caller !== undefined && isBound(caller),
    grantedBy,
    scopeToken: scopeToken === undefined ? null : { clientId: scopeToken.clientId, scopes: [...scopeToken.scopes], certificateBound: isBound(scopeToken) },
  }
}

function isBound(token: VerifiedToken): boolean {
  return token.claims.cnf?.['x5t#S256'] !== undefined
}

/** The operation every demo service offers to the supervisor's readiness check, public. */
export const healthOperation = { get: { operationId: 'health', security: [], responses: { '200': { description: 'The service is up.' } } } } as const

/** The security scheme every demo document declares: the mesh's authorization server, client credentials. */
export function oauth2Components(scopes: Readonly<Record<string, string>>): Record<string, unknown> {
  return {
    securitySchemes: {
      oauth2: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/oauth2/token', scopes } } },
    },
  }
}

/** Registers `GET /health`. */
export function healthRoute(app: FastifyInstance, service: string): void {
  app.get('/health', () => ({ service, status: 'ok' }))
}
