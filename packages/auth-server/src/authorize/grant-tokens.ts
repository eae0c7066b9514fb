import { epochSeconds } from '../clock.js'
import type { CertificateConfirmation } from '../client-auth/context.js'
import type { ServerContext } from '../context.js'
import type { ClientRecord, GrantRecord, RefreshTokenRecord, UserRecord } from '../store/store.js'
import { issueAccessToken, type IssuedAccessToken } from '../tokens/issue-access-token.js'
import { issueIdToken } from '../tokens/id-token.js'
import { OIDC_SCOPES } from './oidc-scopes.js'
import { newSecret, secretHash } from './secrets.js'

export interface UserTokensRequest {
  client: ClientRecord
  grant: GrantRecord
  user: UserRecord
  /** The grant's scopes, or fewer (a refresh may narrow them). */
  scopes: readonly string[]
  /** OpenID Connect `nonce` of the authorization request; only the code redemption repeats it. */
  nonce?: string | null | undefined
  confirmation?: CertificateConfirmation | undefined
}

export interface UserTokens {
  accessToken: IssuedAccessToken
  /** When the client may refresh: the token, and the record the store keeps of it. */
  refreshToken: { token: string; record: RefreshTokenRecord } | undefined
  idToken: string | undefined
}

/**
 * The token set of a user's grant: an access token for the scopes' resource servers (or for
 * `/userinfo` alone when only OpenID Connect scopes remain), a refresh token when the client
 * may refresh, and an ID token for `openid`. Nothing is stored here: the caller records the
 * tokens against the grant, atomically with consuming what it redeemed.
 */
export async function mintUserTokens(ctx: ServerContext, request: UserTokensRequest): Promise<UserTokens> {
  const { client, grant, user, scopes } = request
  const now = epochSeconds(ctx.clock)
  const accessToken = await issueAccessToken(ctx, {
    subject: user.id,
    clientId: client.id,
    scopes,
    audience: await audienceOf(ctx, grant, scopes),
    notAfter: grant.expiresAt,
    confirmation: request.confirmation,
    format: client.tokenFormat,
  })
  let refreshToken: UserTokens['refreshToken']
  if (client.grantTypes.includes('refresh_token')) {
    const token = newSecret('refreshToken')
    const expiresAt = Math.min(now + ctx.config.authorization.refreshTokenIdleTtlSec, grant.expiresAt)
    refreshToken = {
      token,
      record: { tokenHash: secretHash(token), grantId: grant.id, clientId: client.id, createdAt: now, expiresAt, rotatedAt: null },
    }
  }
  const idToken = scopes.includes('openid')
    ? issueIdToken(ctx, { user, clientId: client.id, authTime: grant.authTime, nonce: request.nonce ?? undefined, accessToken: accessToken.token, scopes })
    : undefined
  return { accessToken, refreshToken, idToken }
}

/** RFC 6749 §5.1, with the OpenID Connect Core §3.1.3.3 `id_token`. */
export function tokenResponse(tokens: UserTokens): Record<string, unknown> {
  return {
    access_token: tokens.accessToken.token,
    token_type: 'Bearer',
    expires_in: tokens.accessToken.expiresIn,
    scope: tokens.accessToken.claims.scope,
    ...(tokens.refreshToken && { refresh_token: tokens.refreshToken.token }),
    ...(tokens.idToken && { id_token: tokens.idToken }),
  }
}

async function audienceOf(ctx: ServerContext, grant: GrantRecord, scopes: readonly string[]): Promise<string[]> {
  if (scopes.length === grant.scopes.length) return grant.audience
  const owners = await ctx.directory.resolveScopes(scopes.filter((scope) => !OIDC_SCOPES.has(scope)))
  const audience = [...new Set(owners.values())]
  return audience.length > 0 ? audience : [ctx.issuer]
}

/**
 * Revokes a grant and every access token issued under it, announcing each revocation as the
 * revocation endpoint does. For a reused code or refresh token (RFC 9700 §4.13, §4.14) and logout.
 */
export async function revokeUserGrant(ctx: ServerContext, grantId: string, reason: string): Promise<void> {
  const revocations = await ctx.store.revokeGrant(grantId, epochSeconds(ctx.clock))
  for (const event of revocations) {
    ctx.directory.noteRevoked(event.jti, event.expiresAt)
    ctx.metrics.revocations.inc()
    ctx.revocations.publish(event)
  }
  ctx.audit.record({
    ts: ctx.clock.now(),
    type: 'grant.revoked',
    decision: 'allow',
    reason,
    details: { grant_id: grantId, access_tokens: revocations.map((event) => event.jti) },
  })
}
