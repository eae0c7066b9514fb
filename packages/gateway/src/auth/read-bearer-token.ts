import { VerificationError } from '@meshguard/service-kit'

const SCHEME = 'bearer'

/**
 * The token of the request's one `Authorization` header (RFC 6750 §2.1): the scheme `Bearer` in
 * any case (RFC 9110 §11.1), one or more spaces, then the token. A missing header is
 * `ERR_TOKEN_MISSING`; another scheme (`Basic`) or nothing after the scheme,
 * `ERR_TOKEN_MALFORMED`. The token's characters are checked by {@link isBearerTokenSyntax}
 * only when it is not already known, so a cached token costs no scan.
 *
 * @throws VerificationError
 */
export function readBearerToken(authorization: string | undefined): string {
  if (authorization === undefined) throw new VerificationError('ERR_TOKEN_MISSING', 'no access token was presented')
  if (authorization.length > SCHEME.length + 1 && authorization.charCodeAt(SCHEME.length) === 0x20) {
    let scheme = true
    for (let i = 0; i < SCHEME.length; i += 1) {
      if ((authorization.charCodeAt(i) | 0x20) !== SCHEME.charCodeAt(i)) {
        scheme = false
        break
      }
    }
    if (scheme) {
      let at = SCHEME.length + 1
      while (authorization.charCodeAt(at) === 0x20) at += 1
      if (at < authorization.length) return authorization.slice(at)
    }
  }
  throw new VerificationError('ERR_TOKEN_MALFORMED', 'authorization must be "Bearer <token>"')
}

/** RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
export function isBearerTokenSyntax(token: string): boolean {
  let i = 0
  for (; i < token.length; i += 1) {
    const c = token.charCodeAt(i)
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e || c === 0x2b || c === 0x2f
    if (!ok) break
  }
  if (i === 0) return false
  while (i < token.length && token.charCodeAt(i) === 0x3d) i += 1
  return i === token.length
}
