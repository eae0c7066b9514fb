import { randomUUID } from 'node:crypto'
import { epochSeconds } from '../clock.js'
import type { CertificateConfirmation } from '../client-auth/context.js'
import type { ServerContext } from '../context.js'
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
}

export interface IssuedAccessToken {
  token: string
  claims: AccessTokenClaims
  expiresIn: number
}

/** Builds, signs and returns an RFC 9068 access token with the active key. */
export function issueAccessToken(ctx: ServerContext, request: AccessTokenRequest): IssuedAccessToken {
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
  return { token: encodeAccessToken(claims, ctx.keys.signer()), claims, expiresIn: exp - now }
}
