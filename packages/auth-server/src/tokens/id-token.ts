import { createHash } from 'node:crypto'
import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import type { UserRecord } from '../store/store.js'
import { encodeBase64url, signJws, type SigningAlgorithm } from '@meshguard/token'

export interface IdTokenRequest {
  user: UserRecord
  clientId: string
  /** When the user entered their password. */
  authTime: number
  nonce?: string | undefined
  /** The access token issued with it, for `at_hash`. */
  accessToken: string
  scopes: readonly string[]
}

/** OpenID Connect Core §3.1.3.6: the hash `at_hash` halves, by signing algorithm (SHA-512 for Ed25519). */
const AT_HASH_DIGEST: Record<SigningAlgorithm, string> = { ES256: 'sha256', RS256: 'sha256', EdDSA: 'sha512' }

/**
 * An OpenID Connect ID token (Core §2) for the client, signed with the active key; `typ` is
 * `JWT`, so it can never pass for an access token (`at+jwt`, RFC 9068 §4). Profile and email
 * claims follow the granted scopes (§5.4).
 */
export function issueIdToken(ctx: ServerContext, request: IdTokenRequest): string {
  const signer = ctx.keys.signer()
  const now = epochSeconds(ctx.clock)
  const claims = {
    iss: ctx.issuer,
    sub: request.user.id,
    aud: request.clientId,
    exp: now + ctx.config.authorization.idTokenTtlSec,
    iat: now,
    auth_time: request.authTime,
    ...(request.nonce !== undefined && { nonce: request.nonce }),
    at_hash: tokenHash(request.accessToken, signer.alg),
    ...userClaims(request.user, request.scopes),
  }
  const input = `${encodeBase64url(JSON.stringify({ alg: signer.alg, typ: 'JWT', kid: signer.kid }))}.${encodeBase64url(JSON.stringify(claims))}`
  return `${input}.${signJws(signer.alg, signer.privateKey, input).toString('base64url')}`
}

/** The left half of the token's hash, base64url (Core §3.1.3.6 `at_hash`). */
export function tokenHash(token: string, alg: SigningAlgorithm): string {
  const digest = createHash(AT_HASH_DIGEST[alg]).update(token, 'ascii').digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}

/** Core §5.4: `profile` releases the name and username, `email` the address. */
export function userClaims(user: UserRecord, scopes: readonly string[]): Record<string, string> {
  const claims: Record<string, string> = {}
  if (scopes.includes('profile')) {
    claims.preferred_username = user.username
    if (user.name !== null) claims.name = user.name
  }
  if (scopes.includes('email') && user.email !== null) claims.email = user.email
  return claims
}
