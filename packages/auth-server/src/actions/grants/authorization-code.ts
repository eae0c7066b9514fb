import { epochSeconds } from '../../clock.js'
import { InvalidGrant, InvalidRequest } from '../../errors.js'
import { mintUserTokens, revokeUserGrant, tokenResponse } from '../../authorize/grant-tokens.js'
import { isCodeVerifier, verifierMatches } from '../../authorize/pkce.js'
import { isSecret, secretHash } from '../../authorize/secrets.js'
import type { Grant } from './grant.js'

/**
 * RFC 6749 §4.1.3 with RFC 7636 §4.5. The code must be this client's, unexpired, for the same
 * redirect URI, and answered by the verifier of its challenge; a verifier without a challenge is
 * a downgrade and refused (RFC 9700 §2.1.1). A code is redeemed once: any further redemption,
 * including the losers of a race, revokes the grant and every token it issued (§4.1.2).
 */
export const authorizationCode: Grant = {
  grantType: 'authorization_code',
  async handle(ctx, { client, params, confirmation }) {
    const code = params.require('code')
    const redirectUri = params.require('redirect_uri')
    const verifier = params.get('code_verifier')
    if (verifier !== undefined && !isCodeVerifier(verifier)) {
      throw new InvalidRequest('code_verifier must be 43-128 characters of A-Z, a-z, 0-9, "-", ".", "_" and "~"')
    }
    const record = isSecret('code', code) ? await ctx.store.getAuthorizationCode(secretHash(code)) : undefined
    if (record === undefined) throw new InvalidGrant('authorization code is invalid')
    if (record.clientId !== client.id) throw new InvalidGrant('authorization code was issued to another client')
    if (record.consumedAt !== null) return reused(ctx, record.grantId)
    const now = epochSeconds(ctx.clock)
    if (record.expiresAt <= now) throw new InvalidGrant('authorization code has expired')
    if (record.redirectUri !== redirectUri) throw new InvalidGrant('redirect_uri does not match the one of the authorization request')
    if (record.codeChallenge === null) {
      if (verifier !== undefined) throw new InvalidGrant('code_verifier sent, but the authorization request had no code_challenge')
    } else {
      if (verifier === undefined) throw new InvalidGrant('code_verifier is required: the authorization request had a code_challenge')
      if (!verifierMatches(verifier, record.codeChallenge)) throw new InvalidGrant('code_verifier does not match the code_challenge')
    }
    if (!(await ctx.store.consumeAuthorizationCode(record.codeHash, now))) return reused(ctx, record.grantId)

    const grant = await ctx.store.getGrant(record.grantId)
    const user = grant && (await ctx.store.getUser(grant.userId))
    if (grant === undefined || grant.revokedAt !== null || grant.expiresAt <= now || user === undefined) {
      throw new InvalidGrant('the grant of this authorization code has ended')
    }
    const tokens = await mintUserTokens(ctx, { client, grant, user, scopes: grant.scopes, nonce: record.nonce, confirmation })
    const { claims } = tokens.accessToken
    if (!(await ctx.store.recordGrantTokens(grant.id, now, { jti: claims.jti, expiresAt: claims.exp }, tokens.refreshToken?.record))) {
      throw new InvalidGrant('authorization code was already used; the tokens issued for it are revoked')
    }
    return { claims, body: tokenResponse(tokens) }
  },
}

async function reused(ctx: Parameters<Grant['handle']>[0], grantId: string): Promise<never> {
  await revokeUserGrant(ctx, grantId, 'authorization code reused')
  throw new InvalidGrant('authorization code was already used; the tokens issued for it are revoked')
}
