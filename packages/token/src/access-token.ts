import type { KeyObject } from 'node:crypto'
import type { SigningAlgorithm } from './algorithms.js'
import { decodeBase64url, encodeBase64url } from './base64url.js'
import { keyMatchesAlgorithm, signJws, verifyJws } from './jws.js'
import { audienceList, isEnforceableConfirmation, type AccessTokenClaims } from './claims.js'
import { parseJsonObject } from './json-object.js'

/** RFC 9068 §2.1 media type, as the JOSE `typ` header carries it. */
export const ACCESS_TOKEN_TYP = 'at+jwt'

/** Longest token accepted for verification; ours are well under 2 KB. */
export const MAX_TOKEN_LENGTH = 8192

export interface TokenSigner {
  readonly kid: string
  readonly alg: SigningAlgorithm
  readonly privateKey: KeyObject
}

export interface VerificationKey {
  readonly alg: SigningAlgorithm
  readonly publicKey: KeyObject
}

const headerCache = new WeakMap<TokenSigner, string>()

/** Signs an RFC 9068 access token with `typ: at+jwt` and the signer's `kid`. */
export function encodeAccessToken(claims: AccessTokenClaims, signer: TokenSigner): string {
  let header = headerCache.get(signer)
  if (header === undefined) {
    header = encodeBase64url(JSON.stringify({ alg: signer.alg, typ: ACCESS_TOKEN_TYP, kid: signer.kid }))
    headerCache.set(signer, header)
  }
  const input = `${header}.${encodeBase64url(JSON.stringify(claims))}`
  return `${input}.${signJws(signer.alg, signer.privateKey, input).toString('base64url')}`
}

export type AccessTokenFailure =
  | 'malformed'
  | 'unsupported_alg'
  | 'wrong_typ'
  | 'unknown_kid'
  | 'crit'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'

export type AccessTokenResult =
  | { ok: true; kid: string; claims: AccessTokenClaims }
  | { ok: false; reason: AccessTokenFailure }

export interface VerifyOptions {
  issuer: string
  /** Seconds since the epoch. */
  now: number
  clockToleranceSec: number
  keyFor(kid: string): VerificationKey | undefined
  /** When set, `aud` must name at least one of these. */
  audience?: string | readonly string[] | undefined
  /** When set, only these `alg` values are accepted, whatever the key. */
  algorithms?: readonly SigningAlgorithm[] | undefined
}

/**
 * Verifies an RFC 9068 access token following RFC 8725: compact JWS only (a JWE's five parts are
 * malformed), strict base64url, no duplicate member names, `alg` within the allow-list and bound
 * to the key the `kid` names, `typ` exactly `at+jwt`, no `crit` and no `b64`, and the signature
 * checked before any claim is read; then `iss`, `aud`, `exp`, `nbf` and `iat` with leeway.
 */
export function verifyAccessToken(token: string, options: VerifyOptions): AccessTokenResult {
  if (token.length > MAX_TOKEN_LENGTH) return fail('malformed')
  const parts = token.split('.')
  if (parts.length !== 3) return fail('malformed')
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string]
  const header = parseHeader(encodedHeader)
  const signature = decodeBase64url(encodedSignature)
  if (header === undefined || signature === undefined || signature.length === 0) return fail('malformed')

  if (header.crit !== undefined || header.b64 !== undefined) return fail('crit')
  if (typeof header.typ !== 'string' || !isAccessTokenTyp(header.typ)) return fail('wrong_typ')
  if (typeof header.kid !== 'string') return fail('unknown_kid')
  const key = options.keyFor(header.kid)
  if (key === undefined) return fail('unknown_kid')
  if (header.alg !== key.alg || !keyMatchesAlgorithm(key.alg, key.publicKey)) return fail('unsupported_alg')
  if (options.algorithms && !options.algorithms.includes(key.alg)) return fail('unsupported_alg')
  if (!verifyJws(key.alg, key.publicKey, `${encodedHeader}.${encodedPayload}`, signature)) return fail('bad_signature')

  const claims = parseObject(encodedPayload)
  if (claims === undefined || !hasAccessTokenShape(claims)) return fail('malformed')
  const { now, clockToleranceSec: leeway } = options
  if (claims.iss !== options.issuer) return fail('wrong_issuer')
  if (options.audience !== undefined) {
    const accepted = audienceList(options.audience)
    if (!audienceList(claims.aud).some((aud) => accepted.includes(aud))) return fail('wrong_audience')
  }
  if (claims.exp <= now - leeway) return fail('expired')
  if (claims.nbf !== undefined && claims.nbf > now + leeway) return fail('not_yet_valid')
  if (claims.iat > now + leeway) return fail('issued_in_future')
  return { ok: true, kid: header.kid, claims }
}

function fail(reason: AccessTokenFailure): AccessTokenResult {
  return { ok: false, reason }
}

function isAccessTokenTyp(typ: string): boolean {
  const lower = typ.toLowerCase()
  return lower === ACCESS_TOKEN_TYP || lower === `application/${ACCESS_TOKEN_TYP}`
}

/**
 * An issuer's tokens share a handful of headers (one per key), so each distinct header segment is
 * decoded and parsed once, with the same strictness, and kept frozen; a bounded number are kept,
 * and a flood of distinct ones only starts the set afresh.
 */
const parsedHeaders = new Map<string, Readonly<Record<string, unknown>> | undefined>()
const MAX_PARSED_HEADERS = 256

function parseHeader(segment: string): Readonly<Record<string, unknown>> | undefined {
  if (parsedHeaders.has(segment)) return parsedHeaders.get(segment)
  const header = parseObject(segment)
  if (parsedHeaders.size >= MAX_PARSED_HEADERS) parsedHeaders.clear()
  parsedHeaders.set(segment, header === undefined ? undefined : Object.freeze(header))
  return header
}

function parseObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(segment)
  return bytes === undefined ? undefined : parseJsonObject(bytes.toString('utf8'))
}

function hasAccessTokenShape(claims: Record<string, unknown>): claims is Record<string, unknown> & AccessTokenClaims {
  const aud = claims.aud
  return (
    typeof claims.iss === 'string' &&
    typeof claims.sub === 'string' &&
    typeof claims.jti === 'string' &&
    typeof claims.client_id === 'string' &&
    typeof claims.scope === 'string' &&
    Number.isFinite(claims.exp) &&
    Number.isFinite(claims.iat) &&
    (claims.nbf === undefined || Number.isFinite(claims.nbf)) &&
    isEnforceableConfirmation(claims.cnf) &&
    (typeof aud === 'string' || (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')))
  )
}
