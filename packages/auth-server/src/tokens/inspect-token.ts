import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { isReferenceToken } from './reference-tokens.js'
import type { TokenFormat } from './token-format.js'
import { verifyAccessToken, type AccessTokenFailure, type AccessTokenClaims } from '@meshguard/token'

export type TokenInspection =
  | {
      active: true
      claims: AccessTokenClaims
      /** The signed access token: the token inspected, or the one a reference token stands for. */
      jwt: string
      /** The form the token was presented in. */
      format: TokenFormat
    }
  | { active: false; reason: AccessTokenFailure | 'revoked' | 'unknown_reference_token' }

/**
 * Whether a token is one of ours, valid now and not revoked. A reference token is first
 * resolved to the JWT it stands for, and that JWT is then judged like any other. A token
 * verified before, by a key still published, is taken from the verified-token cache; its
 * times and revocation are checked every time.
 */
export async function inspectToken(ctx: ServerContext, token: string): Promise<TokenInspection> {
  if (!isReferenceToken(token)) return inspectJwt(ctx, token, 'jwt')
  const jwt = await ctx.referenceTokens.resolve(token)
  return jwt === undefined ? { active: false, reason: 'unknown_reference_token' } : inspectJwt(ctx, jwt, 'reference')
}

async function inspectJwt(ctx: ServerContext, jwt: string, format: TokenFormat): Promise<TokenInspection> {
  const now = epochSeconds(ctx.clock)
  const leeway = ctx.config.tokens.clockToleranceSec
  const keyFor = (kid: string) => ctx.keys.verificationKey(kid)
  let claims = ctx.verifiedTokens.get(jwt, keyFor)
  if (claims === undefined) {
    const result = verifyAccessToken(jwt, { issuer: ctx.issuer, now, clockToleranceSec: leeway, keyFor })
    if (!result.ok) return { active: false, reason: result.reason }
    claims = result.claims
    ctx.verifiedTokens.set(jwt, claims, { jti: claims.jti, kid: result.kid, key: keyFor(result.kid)! })
  } else if (claims.exp <= now - leeway) {
    return { active: false, reason: 'expired' }
  } else if (claims.nbf !== undefined && claims.nbf > now + leeway) {
    return { active: false, reason: 'not_yet_valid' }
  }
  if (await ctx.directory.isRevoked(claims.jti)) return { active: false, reason: 'revoked' }
  return { active: true, claims, jwt, format }
}
