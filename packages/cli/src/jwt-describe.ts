import { base64url } from 'jose'

/** A JSON object, as a JWT header or claims set is. */
export type JsonObject = Record<string, unknown>

/** The parts of a compact JWS, decoded but not verified. */
export interface DecodedJwt {
  readonly header: JsonObject
  readonly claims: JsonObject
}

/** One party in a delegation chain: the subject, or an actor from an RFC 8693 `act` claim. */
export interface ChainLink {
  readonly name: string
  readonly role: 'subject' | 'acting now' | 'earlier actor'
}

/**
 * Thrown by {@link decodeJwt} when the input is not a compact JWS carrying JSON; the message is a
 * sentence meant for the user.
 */
export class MalformedJwtError extends Error {
  readonly code = 'ERR_MALFORMED_JWT'

  constructor(message: string) {
    super(message)
    this.name = 'MalformedJwtError'
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' })
const LABEL_WIDTH = 12

/**
 * Splits a compact JWS (RFC 7515 §7.1) and parses its header and payload, without checking the
 * signature. Surrounding whitespace is ignored.
 *
 * @throws {MalformedJwtError} when there are not three base64url segments, or the header or payload
 *   is not a JSON object.
 * @example
 * ```ts
 * const { header, claims } = decodeJwt(token)
 * ```
 */
export function decodeJwt(token: string): DecodedJwt {
  const compact = token.trim()
  if (compact === '') throw new MalformedJwtError('The token is empty.')
  const segments = compact.split('.')
  if (segments.length === 5) {
    throw new MalformedJwtError('This is an encrypted JWT (JWE, five segments); only signed JWTs can be decoded.')
  }
  const [header, payload, signature] = segments
  if (segments.length !== 3 || header === undefined || payload === undefined || signature === undefined) {
    throw new MalformedJwtError(
      `A JWT is three base64url segments joined by dots (header.payload.signature); this has ${segments.length}.`,
    )
  }
  checkAlphabet(signature, 'signature')
  return { header: parseSegment(header, 'header'), claims: parseSegment(payload, 'payload') }
}

function checkAlphabet(segment: string, part: string): void {
  const stray = /[^A-Za-z0-9_-]/u.exec(segment)?.[0]
  if (stray !== undefined) {
    throw new MalformedJwtError(`The ${part} segment is not base64url: ${JSON.stringify(stray)} is not allowed.`)
  }
}

function parseSegment(segment: string, part: 'header' | 'payload'): JsonObject {
  if (segment === '') throw new MalformedJwtError(`The ${part} segment is empty.`)
  checkAlphabet(segment, part)
  let text: string
  try {
    text = utf8.decode(base64url.decode(segment))
  } catch {
    throw new MalformedJwtError(`The ${part} segment is not valid base64url-encoded UTF-8.`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new MalformedJwtError(`The ${part} is not JSON.`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedJwtError(`The ${part} is JSON but not an object (it is ${jsonKind(value)}).`)
  }
  return value as JsonObject
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

/**
 * Decodes `token` and describes it for a person: the header and claims as pretty JSON, a summary
 * of the usual access-token claims with times relative to `now`, and the delegation chain when
 * there is an `act` claim. Says nothing about the signature.
 *
 * @param now Current time in milliseconds since the epoch.
 * @throws {MalformedJwtError} as {@link decodeJwt} does.
 * @example
 * ```ts
 * process.stdout.write(describeJwt(token, Date.now()))
 * ```
 */
export function describeJwt(token: string, now: number): string {
  return describeDecodedJwt(decodeJwt(token), now)
}

/** {@link describeJwt} for a token already decoded. Every line ends with a newline. */
export function describeDecodedJwt(decoded: DecodedJwt, now: number): string {
  const sections = [
    ['Header', JSON.stringify(decoded.header, null, 2)],
    ['Claims', JSON.stringify(decoded.claims, null, 2)],
    ['Summary', ...summarizeClaims(decoded.claims, now)],
  ]
  const chain = renderDelegationChain(decoded.claims)
  if (chain.length > 0) sections.push(chain)
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`
}

/**
 * The summary lines of {@link describeJwt}: issuer, subject, client_id, audience, scope, the
 * `iat`/`nbf`/`exp` times and a status such as `expires in 9 minutes`. Absent claims are left out.
 */
export function summarizeClaims(claims: JsonObject, now: number): string[] {
  const rows: [string, unknown][] = [
    ['issuer', claims.iss],
    ['subject', claims.sub],
    ['client_id', claims.client_id],
    ['audience', claims.aud],
    ['scope', claims.scope],
  ]
  const lines = rows.filter(([, value]) => value !== undefined).map(([label, value]) => row(label, claimText(value)))
  for (const [label, claim] of [['issued at', 'iat'], ['not before', 'nbf'], ['expires at', 'exp']] as const) {
    if (claims[claim] === undefined) continue
    const at = numericDate(claims, claim)
    lines.push(row(label, at === undefined ? `not a NumericDate: ${JSON.stringify(claims[claim])}` : `${isoTime(at)} (${relativeTime(at, now)})`))
  }
  lines.push(row('status', expiryInWords(claims, now)))
  return lines
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(LABEL_WIDTH)}${value}`
}

function claimText(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(', ')
  return JSON.stringify(value)
}

/** The RFC 7519 §2 NumericDate claim `claim` in milliseconds, or undefined when absent or not a number. */
export function numericDate(claims: JsonObject, claim: string): number | undefined {
  const value = claims[claim]
  return typeof value === 'number' && Number.isFinite(value) ? value * 1000 : undefined
}

/** `at` (ms) as an ISO 8601 UTC timestamp, without milliseconds when they are zero. */
export function isoTime(at: number): string {
  return new Date(at).toISOString().replace('.000Z', 'Z')
}

/**
 * How far `at` is from `now`, both in milliseconds, in the largest whole unit of seconds, minutes,
 * hours or days. The distance is rounded to the second, then down to whole units.
 *
 * @example
 * ```ts
 * relativeTime(now + 9.5 * 60_000, now) // 'in 9 minutes'
 * relativeTime(now - 3 * 3_600_000, now) // '3 hours ago'
 * ```
 */
export function relativeTime(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000)
  const size = Math.abs(seconds)
  if (size === 0) return 'now'
  const [amount, unit] =
    size < 60 ? [size, 'second' as const]
    : size < 3_600 ? [size / 60, 'minute' as const]
    : size < 86_400 ? [size / 3_600, 'hour' as const]
    : [size / 86_400, 'day' as const]
  return relative.format(Math.sign(seconds) * Math.floor(amount), unit)
}

/**
 * Whether the token is usable at `now`, in words: `expires in 9 minutes`, `expired 3 hours ago`,
 * `not valid until 2025-01-01T12:05:00Z (in 5 minutes)` or `never expires (no exp claim)`.
 */
export function expiryInWords(claims: JsonObject, now: number): string {
  const notBefore = numericDate(claims, 'nbf')
  if (notBefore !== undefined && notBefore > now) {
    return `not valid until ${isoTime(notBefore)} (${relativeTime(notBefore, now)})`
  }
  if (claims.exp === undefined) return 'never expires (no exp claim)'
  const expires = numericDate(claims, 'exp')
  if (expires === undefined) return 'expiry unknown: exp is not a NumericDate'
  const words = relativeTime(expires, now)
  if (expires > now) return words === 'now' ? 'expires in less than a second' : `expires ${words}`
  return words === 'now' ? 'expired just now' : `expired ${words}`
}

/**
 * The delegation chain of an RFC 8693 §4.1 token: the subject, then the actor presenting the token
 * now (the outermost `act`), then each earlier actor (each nested `act`). Empty without `act`.
 * Nesting stops at the first `act` that is not an object.
 */
export function delegationChain(claims: JsonObject): ChainLink[] {
  if (!isObject(claims.act)) return []
  const links: ChainLink[] = [{ name: typeof claims.sub === 'string' ? claims.sub : '(no sub)', role: 'subject' }]
  for (let actor: unknown = claims.act; isObject(actor); actor = actor.act) {
    links.push({ name: actorName(actor), role: links.length === 1 ? 'acting now' : 'earlier actor' })
  }
  return links
}

/**
 * {@link delegationChain} as a titled, numbered list, or no lines when there is no `act` claim:
 *
 * ```text
 * Delegation chain (RFC 8693 act: the subject, then actors from newest to oldest)
 *   1. alice          subject
 *   2. order-service  acting now
 *   3. cart-service   earlier actor
 * ```
 */
export function renderDelegationChain(claims: JsonObject): string[] {
  const links = delegationChain(claims)
  if (links.length === 0) return []
  const width = Math.max(...links.map((link) => link.name.length)) + 2
  return [
    'Delegation chain (RFC 8693 act: the subject, then actors from newest to oldest)',
    ...links.map((link, index) => `  ${index + 1}. ${link.name.padEnd(width)}${link.role}`),
  ]
}

function actorName(actor: JsonObject): string {
  const name = typeof actor.sub === 'string' ? actor.sub : '(no sub)'
  return typeof actor.iss === 'string' ? `${name} (iss ${actor.iss})` : name
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
