import type { Logger } from 'pino'
import type { AuditLog } from './audit/audit-log.js'
import type { Clock } from './clock.js'
import type { AuthServerConfig } from './config/schema.js'
import type { AccessTokenClaims, TokenCache } from '@meshguard/token'
import type { Directory } from './directory/directory.js'
import type { RevocationBus } from './events/revocation-bus.js'
import type { KeyManager } from './keys/key-manager.js'
import type { Metrics } from './metrics.js'
import type { Store } from './store/store.js'
import type { ReferenceTokens } from './tokens/reference-tokens.js'
import type { UserAuthenticator } from './users/authenticate-user.js'

/** Paths of the endpoints, relative to the issuer. */
export const endpointPaths = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  userinfo: '/oauth2/userinfo',
  endSession: '/oauth2/logout',
  /** The sign-in and consent pages of an authorization request: `/interaction/<id>`. */
  interaction: '/interaction',
  introspection: '/oauth2/introspect',
  revocation: '/oauth2/revoke',
  revocationEvents: '/oauth2/revocations/events',
  /** Where services report the calls they allowed and refused (`actions/audit-ingest.ts`). */
  auditEvents: '/audit/events',
  jwks: '/.well-known/jwks.json',
} as const

export type EndpointName = keyof typeof endpointPaths

/** What the server's handlers depend on; passed in, never looked up. */
export interface ServerContext {
  readonly config: Readonly<AuthServerConfig>
  readonly store: Store
  /** In-memory clients, scopes and revocations: the hot-path lookups. */
  readonly directory: Directory
  readonly keys: KeyManager
  readonly clock: Clock
  readonly audit: AuditLog
  readonly revocations: RevocationBus
  /** Tokens whose signature was checked, for introspection and exchange to skip it. */
  readonly verifiedTokens: TokenCache<AccessTokenClaims>
  /** Opaque access tokens and the JWTs they stand for. */
  readonly referenceTokens: ReferenceTokens
  readonly metrics: Metrics
  /** Password sign-in with throttling, for the login page. */
  readonly userAuthenticator: UserAuthenticator
  readonly logger: Logger
  /** The exact issuer identifier; fixed once the server listens. */
  issuer: string
  /**
   * The mutual-TLS listener's counterpart of `issuer` (its origin and the issuer's path), under
   * which its endpoints are published (RFC 8705 §5 `mtls_endpoint_aliases`); undefined without
   * one, fixed once it listens.
   */
  mtlsBaseUrl: string | undefined
}

/** The issuer's path, under which both listeners serve every endpoint ('' for a bare origin). */
export function issuerPath(issuer: string | undefined): string {
  return issuer ? new URL(issuer).pathname.replace(/\/$/, '') : ''
}

export function endpointUrl(ctx: Pick<ServerContext, 'issuer'>, name: EndpointName): string {
  return `${ctx.issuer.replace(/\/$/, '')}${endpointPaths[name]}`
}

/** The endpoint's URL on the mutual-TLS listener, when there is one. */
export function mtlsEndpointUrl(ctx: Pick<ServerContext, 'mtlsBaseUrl'>, name: EndpointName): string | undefined {
  return ctx.mtlsBaseUrl === undefined ? undefined : `${ctx.mtlsBaseUrl.replace(/\/$/, '')}${endpointPaths[name]}`
}
