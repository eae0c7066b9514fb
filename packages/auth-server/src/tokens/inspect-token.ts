import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { verifyAccessToken, type AccessTokenFailure } from './access-token.js'
import type { AccessTokenClaims } from './claims.js'

export type TokenInspection =
  | { active: true; claims: AccessTokenClaims }
  | { active: false; reason: AccessTokenFailure | 'revoked' }

/** Whether a token is one of ours, valid now and not revoked. */
export async function inspectToken(ctx: ServerContext, token: string): Promise<TokenInspection> {
  const result = verifyAccessToken(token, {
    issuer: ctx.issuer,
    now: epochSeconds(ctx.clock),
    clockToleranceSec: ctx.config.tokens.clockToleranceSec,
    keyFor: (kid) => ctx.keys.verificationKey(kid),
  })
  if (!result.ok) return { active: false, reason: result.reason }
  if (await ctx.directory.isRevoked(result.claims.jti)) return { active: false, reason: 'revoked' }
  return { active: true, claims: result.claims }
}
