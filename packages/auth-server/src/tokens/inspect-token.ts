import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { verifyAccessToken, type AccessTokenFailure, type AccessTokenClaims } from '@meshguard/token'

export type TokenInspection =
  | { active: true; claims: AccessTokenClaims }
  | { active: false; reason: AccessTokenFailure | 'revoked' }

/**
 * Whether a token is one of ours, valid now and not revoked. A token verified before, by a key
 * still published, is taken from the verified-token cache; its times and revocation are checked
 * every time.
 */
export async function inspectToken(ctx: ServerContext, token: string): Promise<TokenInspection> {
  const now = epochSeconds(ctx.clock)
  const leeway = ctx.config.tokens.clockToleranceSec
  const keyFor = (kid: string) => ctx.keys.verificationKey(kid)
  let claims = ctx.verifiedTokens.get(token, keyFor)
  if (claims === undefined) {
    const result = verifyAccessToken(token, { issuer: ctx.issuer, now, clockToleranceSec: leeway, keyFor })
    if (!result.ok) return { active: false, reason: result.reason }
    claims = result.claims
    ctx.verifiedTokens.set(token, claims, { jti: claims.jti, kid: result.kid, key: keyFor(result.kid)! })
  } else if (claims.exp <= now - leeway) {
    return { active: false, reason: 'expired' }
  } else if (claims.nbf !== undefined && claims.nbf > now + leeway) {
    return { active: false, reason: 'not_yet_valid' }
  }
  if (await ctx.directory.isRevoked(claims.jti)) return { active: false, reason: 'revoked' }
  return { active: true, claims }
}
