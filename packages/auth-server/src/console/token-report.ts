import { decodeBase64url, isSigningAlgorithm, verifyJws } from '@meshguard/token'
import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { inspectToken } from '../tokens/inspect-token.js'
import { isReferenceToken } from '../tokens/reference-tokens.js'

/** What the token inspector shows of a pasted token. */
export interface TokenReport {
  format: 'jwt' | 'reference'
  /** The JOSE header and the claims, decoded but not trusted; null when the token is not a JWS. */
  header: Record<string, unknown> | null
  claims: Record<string, unknown> | null
  /** Whether the signature verifies with a key of this server's JWKS, and which; or why not. */
  signature: { verified: boolean; kid: string | null; message: string }
  /** `exp` in words against the server's clock: "expires in 9 minutes", "expired 2 hours ago". */
  expiry: { exp: number; expired: boolean; words: string } | null
  /** The server's verdict, as introspection would give it: active, or the reason it is not. */
  status: { active: boolean; reason: string | null; message: string }
  /**
   * Who the token passed through, in order: its subject, then each actor of its `act` claim
   * (RFC 8693 §4.1) from the first to the current one. Empty without a subject.
   */
  delegation: string[]
}

const INACTIVE: Readonly<Record<string, string>> = {
  malformed: 'not a well-formed access token',
  unsupported_alg: 'its algorithm is not accepted',
  wrong_typ: 'it is not an access token (typ is not at+jwt)',
  unknown_kid: "its key is not in the server's JWKS",
  crit: 'it has critical header parameters',
  bad_signature: 'its signature does not verify',
  wrong_issuer: 'it was issued by another issuer',
  wrong_audience: 'it is not for this audience',
  expired: 'it has expired',
  not_yet_valid: 'it is not valid yet',
  issued_in_future: 'it was issued in the future',
  revoked: 'it has been revoked',
  unknown_reference_token: 'no such reference token (never issued here, or purged after it expired)',
}

/**
 * Decodes a token and judges it with the server's own keys and state: the signature against the
 * published keys, the expiry against the server's clock, revocation as introspection sees it. A
 * reference token is reported as the JWT it stands for.
 *
 * @example
 * ```ts
 * const report = await tokenReport(ctx, pasted)
 * report.signature.message // 'signature verified with key "k1…"'
 * ```
 */
export async function tokenReport(ctx: ServerContext, pasted: string): Promise<TokenReport> {
  const token = pasted.trim()
  const inspection = await inspectToken(ctx, token)
  const status = inspection.active
    ? { active: true, reason: null, message: 'active: valid now and not revoked' }
    : { active: false, reason: inspection.reason, message: `not active: ${INACTIVE[inspection.reason] ?? inspection.reason}` }
  const format = isReferenceToken(token) ? 'reference' : 'jwt'
  const jwt = format === 'reference' ? await ctx.referenceTokens.resolve(token) : token
  const parts = jwt?.split('.') ?? []
  const header = parts.length === 3 ? decodeJson(parts[0]!) : null
  const claims = parts.length === 3 ? decodeJson(parts[1]!) : null
  if (header === null || claims === null) {
    const message = format === 'reference' && jwt === undefined ? 'nothing to verify: the reference token is unknown' : 'nothing to verify: not a JWT (compact JWS)'
    return { format, header: null, claims: null, signature: { verified: false, kid: null, message }, expiry: null, status, delegation: [] }
  }
  return {
    format,
    header,
    claims,
    signature: checkSignature(ctx, header, parts as [string, string, string]),
    expiry: expiry(claims.exp, epochSeconds(ctx.clock)),
    status,
    delegation: delegation(claims),
  }
}

function checkSignature(ctx: ServerContext, header: Record<string, unknown>, [encodedHeader, payload, signature]: [string, string, string]): TokenReport['signature'] {
  const kid = typeof header.kid === 'string' ? header.kid : null
  if (kid === null) return { verified: false, kid, message: 'not verified: the header names no kid' }
  const key = ctx.keys.verificationKey(kid)
  if (key === undefined) return { verified: false, kid, message: `not verified: key "${kid}" is not in the server's JWKS` }
  if (!isSigningAlgorithm(header.alg) || header.alg !== key.alg) {
    return { verified: false, kid, message: `not verified: alg ${JSON.stringify(header.alg)} is not the algorithm of key "${kid}" (${key.alg})` }
  }
  const bytes = decodeBase64url(signature)
  const verified = bytes !== undefined && verifyJws(key.alg, key.publicKey, `${encodedHeader}.${payload}`, bytes)
  return verified
    ? { verified, kid, message: `signature verified with key "${kid}" (${key.alg})` }
    : { verified, kid, message: `not verified: the signature does not verify with key "${kid}"` }
}

function decodeJson(segment: string): Record<string, unknown> | null {
  const bytes = decodeBase64url(segment)
  if (bytes === undefined) return null
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}

function expiry(exp: unknown, now: number): TokenReport['expiry'] {
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return null
  const expired = exp <= now
  const words = duration(Math.abs(exp - now))
  return { exp, expired, words: expired ? `expired ${words} ago` : `expires in ${words}` }
}

const UNITS = [
  ['day', 86_400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
] as const

/** A duration in its largest whole unit, rounded: "9 minutes", "2 hours", "1 day". */
export function duration(seconds: number): string {
  const [unit, size] = UNITS.find(([, size]) => seconds >= size) ?? UNITS[3]
  const count = Math.round(seconds / size)
  return `${count} ${unit}${count === 1 ? '' : 's'}`
}

function delegation(claims: Record<string, unknown>): string[] {
  if (typeof claims.sub !== 'string') return []
  const actors: string[] = []
  let hop: unknown = claims.act
  while (typeof hop === 'object' && hop !== null && typeof (hop as { sub?: unknown }).sub === 'string' && actors.length < 32) {
    actors.push((hop as { sub: string }).sub)
    hop = (hop as { act?: unknown }).act
  }
  return [claims.sub, ...actors.reverse()]
}
