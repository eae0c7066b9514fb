import { randomUUID } from 'node:crypto'
import { epochSeconds } from '../clock.js'
import type { CertificateConfirmation } from '../client-auth/context.js'
import type { ServerContext } from '../context.js'
import type { TokenFormat } from './token-format.js'
import { encodeAccessToken, type AccessTokenClaims, type ActClaim } from '@meshguard/token'

export interface AccessTokenRequest {
  subject: string
  clientId: string
  scopes: readonly string[]
  audience: readonly string[]
  act?: ActClaim | undefined
  mayAct?: string | null | undefined
  /** Seconds since the epoch the token must not outlive (RFC 8693: its subject token's `exp`). */
  notAfter?: number | undefined
  /** RFC 8705 §3.1: the client certificate the token is bound to. */
  confirmation?: CertificateConfirmation | undefined
  /** The requesting client's: the JWT itself, or an opaque reference to it. */
  format: TokenFormat
}

export interface IssuedAccessToken {
  /** What the client receives: the JWT, or the reference token that stands for it. */
  token: string
  claims: AccessTokenClaims
  expiresIn: number
}

/**
 * Builds and signs an RFC 9068 access token with the active key. For a `reference` client the
 * JWT is kept by the server and an opaque token that stands for it is returned instead.
 */
export async function issueAccessToken(ctx: ServerContext, request: AccessTokenRequest): Promise<IssuedAccessToken> {
  const now = epochSeconds(ctx.clock)
  const lifetime = Math.min(ctx.config.tokens.accessTokenTtlSec, ctx.config.tokens.maxAccessTokenTtlSec)
  const exp = Math.min(now + lifetime, request.notAfter ?? Number.POSITIVE_INFINITY)
  const claims: AccessTokenClaims = {
    iss: ctx.issuer,
    sub: request.subject,
    aud: request.audience.length === 1 ? request.audience[0]! : [...request.audience],
    exp,
    iat: now,
    nbf: now,
    jti: randomUUID(),
    client_id: request.clientId,
    scope: request.scopes.join(' '),
  }
  if (request.act) claims.act = request.act
  if (request.mayAct) claims.may_act = { sub: request.mayAct }
  if (request.confirmation) claims.cnf = { 'x5t#S256': request.confirmation['x5t#S256'] }
  const jwt = encodeAccessToken(claims, ctx.keys.signer())
  const token = request.format === 'reference' ? await ctx.referenceTokens.issue(jwt, claims) : jwt
  return { token, claims, expiresIn: exp - now }
}
