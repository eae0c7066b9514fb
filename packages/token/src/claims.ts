/** RFC 8693 §4.1: the acting party, nested once per delegation hop. */
export interface ActClaim {
  sub: string
  act?: ActClaim
}

/** The claims of a Meshguard access token (RFC 9068 §2.2). */
export interface AccessTokenClaims {
  iss: string
  sub: string
  aud: string | string[]
  exp: number
  iat: number
  /** Optional in RFC 9068 (§2.2); Meshguard always sets it. */
  nbf?: number
  jti: string
  client_id: string
  scope: string
  act?: ActClaim
  /** RFC 8693 §4.4: the one party allowed to exchange this token. */
  may_act?: { sub: string }
  /**
   * RFC 8705 §3.1: the token is bound to the client certificate whose SHA-256 thumbprint
   * (base64url of the DER) this is; it is only good over a connection presenting that certificate.
   */
  cnf?: { 'x5t#S256': string }
}

/** RFC 8705 §3.1: `x5t#S256`, base64url without padding of a SHA-256 digest. */
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/

/**
 * Whether a `cnf` claim is one a Meshguard verifier can enforce: absent, or an object with
 * exactly an `x5t#S256` thumbprint. Any other confirmation method (a DPoP `jkt`, a `jwk`) is
 * refused rather than ignored, since ignoring it would accept the token unbound.
 */
export function isEnforceableConfirmation(cnf: unknown): boolean {
  if (cnf === undefined) return true
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) return false
  const members = Object.keys(cnf)
  const thumbprint = (cnf as Record<string, unknown>)['x5t#S256']
  return members.length === 1 && typeof thumbprint === 'string' && THUMBPRINT.test(thumbprint)
}

/** How many parties the `act` claim names. */
export function actDepth(act: ActClaim | undefined): number {
  let depth = 0
  for (let hop = act; hop; hop = hop.act) depth += 1
  return depth
}

/** The delegation chain, most recent actor first. */
export function actChain(act: ActClaim | undefined): string[] {
  const chain: string[] = []
  for (let hop = act; hop; hop = hop.act) chain.push(hop.sub)
  return chain
}

export function audienceList(aud: string | readonly string[]): readonly string[] {
  return typeof aud === 'string' ? [aud] : aud
}

/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** Splits a `scope` parameter; undefined when any token has characters RFC 6749 §3.3 forbids. */
export function parseScope(scope: string): string[] | undefined {
  const tokens = scope.split(' ').filter((token) => token !== '')
  return tokens.every((token) => SCOPE_TOKEN.test(token)) ? [...new Set(tokens)] : undefined
}

export function isScopeToken(token: string): boolean {
  return SCOPE_TOKEN.test(token)
}
