import { epochSeconds } from '../../clock.js'
import { InvalidGrant, InvalidScope } from '../../errors.js'
import { mintUserTokens, revokeUserGrant, tokenResponse } from '../../authorize/grant-tokens.js'
import { isSecret, secretHash } from '../../authorize/secrets.js'
import type { Grant } from './grant.js'
import { parseScope } from '@meshguard/token'

/**
 * RFC 6749 §6. The refresh token must be this client's and unexpired; it is rotated on every use
 * (RFC 9700 §4.14.2), and presenting a rotated-out token again revokes the whole grant. A
 * narrower `scope` narrows the new access token only; the grant, and so the next refresh, keeps
 * what was consented to. Wider is `invalid_scope`.
 */
export const refreshToken: Grant = {
  grantType: 'refresh_token',
  async handle(ctx, { client, params, confirmation }) {
    const token = params.require('refresh_token')
    const record = isSecret('refreshToken', token) ? await ctx.store.getRefreshToken(secretHash(token)) : undefined
    if (record === undefined) throw new InvalidGrant('refresh token is invalid')
    if (record.clientId !== client.id) throw new InvalidGrant('refresh token was issued to another client')
    if (record.rotatedAt !== null) return reused(ctx, record.grantId)
    const now = epochSeconds(ctx.clock)
    if (record.expiresAt <= now) throw new InvalidGrant('refresh token has expired')
    const grant = await ctx.store.getGrant(record.grantId)
    const user = grant && (await ctx.store.getUser(grant.userId))
    if (grant === undefined || grant.revokedAt !== null || grant.expiresAt <= now || user === undefined) {
      throw new InvalidGrant('the grant of this refresh token has ended')
    }

    const scopeParam = params.get('scope')
    let scopes = grant.scopes
    if (scopeParam !== undefined) {
      const requested = parseScope(scopeParam)
      if (requested === undefined || requested.length === 0) throw new InvalidScope('scope is empty or has characters RFC 6749 §3.3 does not allow')
      const wider = requested.filter((scope) => !grant.scopes.includes(scope))
      if (wider.length > 0) throw new InvalidScope(`scope wider than the grant: ${wider.join(' ')}`)
      scopes = [...new Set(requested)]
    }

    const tokens = await mintUserTokens(ctx, { client, grant, user, scopes, confirmation })
    const { claims } = tokens.accessToken
    const successor = tokens.refreshToken?.record
    if (successor === undefined) throw new InvalidGrant('this client may no longer refresh')
    const rotation = await ctx.store.rotateRefreshToken(record.tokenHash, now, successor, { jti: claims.jti, expiresAt: claims.exp })
    if (rotation === 'reused') return reused(ctx, grant.id)
    if (rotation === 'grant_revoked') throw new InvalidGrant('the grant of this refresh token has ended')
    return { claims, body: tokenResponse(tokens) }
  },
}

async function reused(ctx: Parameters<Grant['handle']>[0], grantId: string): Promise<never> {
  await revokeUserGrant(ctx, grantId, 'refresh token reused')
  throw new InvalidGrant('refresh token was already used; the grant is revoked')
}
