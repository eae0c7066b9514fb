import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { encodeBase64url, signJws } from '@meshguard/token'

/** RFC 9701 §5: the JOSE `typ` of a signed introspection response (explicit typing, RFC 8725 §3.11). */
export const INTROSPECTION_RESPONSE_TYP = 'token-introspection+jwt'

/**
 * RFC 9701 §5: the introspection response as a JWT signed with the active key. `iss` is the
 * issuer, `aud` the client that asked, `iat` now, and `token_introspection` the RFC 7662 response
 * object, unchanged. No `sub` or `exp`, and its own `typ`: it can never pass for an access token.
 *
 * @example
 * signIntrospectionResponse(ctx, 'gateway', { active: false })
 */
export function signIntrospectionResponse(
  ctx: Pick<ServerContext, 'issuer' | 'keys' | 'clock'>,
  audience: string,
  response: Readonly<Record<string, unknown>>,
): string {
  const signer = ctx.keys.signer()
  const header = encodeBase64url(JSON.stringify({ alg: signer.alg, typ: INTROSPECTION_RESPONSE_TYP, kid: signer.kid }))
  const claims = { iss: ctx.issuer, aud: audience, iat: epochSeconds(ctx.clock), token_introspection: response }
  const input = `${header}.${encodeBase64url(JSON.stringify(claims))}`
  return `${input}.${signJws(signer.alg, signer.privateKey, input).toString('base64url')}`
}
