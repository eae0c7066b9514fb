import { createHash, randomBytes } from 'node:crypto'

/** The confidential web client both servers of the user-grants benchmark register, and what it asks for. */
export const WEB_CLIENT = {
  id: 'bench-web',
  redirectUri: 'https://app.bench.example/callback',
  /** OpenID Connect and one API scope, of the resource server `bench-api`. */
  scopes: ['openid', 'bench.read'],
  nonce: 'bench-nonce',
} as const

/** What a server of the user-grants benchmark reports once it listens on loopback. */
export interface UserGrantTarget {
  tokenUrl: string
  /** `Authorization` header with the web client's credentials (client_secret_basic). */
  authorization: string
  /** The PKCE verifier (RFC 7636 §4.1) whose S256 challenge every code the server mints carries. */
  codeVerifier: string
}

/** The parent's question, through `ServerProcess.ask`: mint this many authorization codes, each for one redemption. */
export interface MintCodes {
  mint: 'codes'
  count: number
}

export interface MintedCodes {
  codes: string[]
}

export function isMintCodes(question: unknown): question is MintCodes {
  const { mint, count } = (question ?? {}) as Partial<MintCodes>
  return mint === 'codes' && Number.isInteger(count) && count! > 0
}

/** RFC 7636 §4.1-4.2: a 43-character verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier, 'ascii').digest('base64url') }
}

/** RFC 6749 §4.1.3 with RFC 7636 §4.5: the form body that redeems `code`. */
export function codeRedemptionBody(code: string, codeVerifier: string): string {
  return new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: WEB_CLIENT.redirectUri, code_verifier: codeVerifier }).toString()
}

/** RFC 6749 §6: the form body that exchanges `refreshToken` for new tokens. */
export function refreshBody(refreshToken: string): string {
  return new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString()
}
