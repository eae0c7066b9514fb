import { createPublicKey, type JsonWebKey } from 'node:crypto'
import {
  actChain,
  audienceList,
  decodeBase64url,
  isSigningAlgorithm,
  keyMatchesAlgorithm,
  MAX_TOKEN_LENGTH,
  signingAlgorithms,
  TokenCache,
  verifyAccessToken,
  type AccessTokenFailure,
  type SigningAlgorithm,
  type VerificationKey,
} from '@meshguard/token'
import { VerificationError, type VerificationErrorCode } from '../errors.js'
import { JwksCache, type JwksCacheOptions } from '../jwks/jwks-cache.js'
import { RevocationEvents } from '../revocation/revocation-events.js'
import type { VerifiedToken } from './verified-token.js'

/** A public JWK given directly instead of a JWKS endpoint. */
export interface StaticKey extends JsonWebKey {
  kid: string
  alg?: string
}

export interface VerifierOptions {
  /** The exact `iss` accepted. */
  issuer: string
  /** This service's identifier: `aud` must name it (or one of these). */
  audience: string | readonly string[]
  /**
   * Seed 004's forwarded identity: the services upstream whose callers' tokens reach this one in
   * `Authorization`, forwarded beside the upstream service's own `X-Scope-Token` (a token addressed
   * to `api-a` arriving at `api-b`). A token addressed to one of these and not to `audience`
   * verifies with `forwarded: true`, and authorization takes only its identity: it is accepted
   * only beside a valid `X-Scope-Token` addressed to this service that grants the operation, and
   * its own scopes never count here. Default none: every token must be addressed to `audience`.
   */
  forwardedAudiences?: readonly string[] | undefined
  /**
   * The issuer's `revocation_events_endpoint`: revoked tokens are then refused within moments,
   * and keys dropped by an emergency rotation as soon as it is announced.
   */
  revocationEventsUri?: string | URL
  /** Where the issuer publishes its keys. Exactly one of `jwksUri` and `keys`. */
  jwksUri?: string | URL
  keys?: readonly StaticKey[]
  /** Default: ES256, RS256 and EdDSA. */
  algorithms?: readonly SigningAlgorithm[]
  /** Leeway for `exp`, `nbf` and `iat`; default 30, at most 300. */
  clockToleranceSec?: number
  /** Longer tokens are refused unread; default 8192. */
  maxTokenLength?: number
  /** Verified tokens kept; 0 disables the cache. Default 10,000. */
  cacheSize?: number
  jwks?: Pick<JwksCacheOptions, 'refreshIntervalMs' | 'unknownKidCooldownMs' | 'timeoutMs' | 'maxStaleMs'>
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number
  onError?: (err: Error) => void
}

export interface Verifier {
  /** Verifies a bearer token; rejects with a {@link VerificationError}. */
  verify(token: string): Promise<VerifiedToken>
  /**
   * {@link Verifier.verify} for a token verified before, without waiting: the token when this
   * exact string is in the verified-token cache and still valid, `undefined` when it has to go
   * through `verify`. Throws a {@link VerificationError} when the cached token has expired or been
   * revoked.
   */
  verifyCached(token: string): VerifiedToken | undefined
  /** Refuses this `jti` from now until `expiresAt` (seconds) and evicts it from the cache. */
  revoke(jti: string, expiresAt: number): void
  /** Fetches the JWKS once (rejecting if it cannot), then keeps it fresh. */
  start(): Promise<void>
  /**
   * Fetches the JWKS now. A key the issuer dropped (emergency rotation) stops verifying, cached
   * tokens included, at the next fetch: this one, an unknown `kid`'s, or the background refresh.
   */
  refreshKeys(): Promise<void>
  /**
   * Calls `listener` whenever tokens verified before may have stopped being valid: with the `jti`
   * when a revocation arrives, without one when the issuer's keys changed. Long-lived calls
   * re-verify their token then. Returns the function that removes the listener.
   */
  onInvalidate(listener: (revokedJti?: string) => void): () => void
  close(): void
}

const REASONS: Record<AccessTokenFailure, [VerificationErrorCode, string]> = {
  malformed: ['ERR_TOKEN_MALFORMED', 'the token is not a well-formed access token'],
  unsupported_alg: ['ERR_TOKEN_ALG', 'the token alg is not allowed for its key'],
  wrong_typ: ['ERR_TOKEN_TYP', 'the token typ is not at+jwt'],
  unknown_kid: ['ERR_TOKEN_KID_UNKNOWN', 'the token is not signed by a key of the issuer'],
  crit: ['ERR_TOKEN_CRIT', 'the token carries header parameters that are not understood'],
  bad_signature: ['ERR_TOKEN_SIGNATURE', 'the token signature is invalid'],
  wrong_issuer: ['ERR_TOKEN_ISSUER', 'the token was not issued by the trusted issuer'],
  wrong_audience: ['ERR_TOKEN_AUDIENCE', 'the token is not addressed to this service'],
  expired: ['ERR_TOKEN_EXPIRED', 'the token has expired'],
  not_yet_valid: ['ERR_TOKEN_NOT_YET_VALID', 'the token is not valid yet'],
  issued_in_future: ['ERR_TOKEN_IAT_FUTURE', 'the token was issued in the future'],
}

/**
 * A verifier for one issuer's access tokens, checked locally against its keys. Options are
 * checked here and a `TypeError` names the first bad one.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'https://auth.internal', audience: 'orders', jwksUri: 'https://auth.internal/.well-known/jwks.json' })
 * await verifier.start()
 * const { subject, scopes } = await verifier.verify(token)
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const settings = checkOptions(options)
  const now = options.now ?? Date.now
  const jwks = settings.jwksUri
    ? new JwksCache({ ...options.jwks, jwksUri: settings.jwksUri, algorithms: settings.algorithms, now, onError: options.onError })
    : undefined
  const staticKeys = jwks ? undefined : importStaticKeys(options.keys ?? [], settings.algorithms)
  const keyFor = (kid: string): VerificationKey | undefined => (jwks ? jwks.keyFor(kid) : staticKeys?.get(kid))
  const cache = new TokenCache<VerifiedToken>(settings.cacheSize)
  const revoked = new Map<string, number>()
  const invalidated = new Set<(revokedJti?: string) => void>()
  const notify = (revokedJti?: string) => {
    for (const listener of invalidated) listener(revokedJti)
  }
  let purgedAt = now()
  const revoke = (jti: string, expiresAt: number) => {
    revoked.set(jti, expiresAt)
    cache.evict(jti)
    notify(jti)
    // Forget revocations of tokens that have expired anyway; at most once a minute, since a
    // stream's snapshot delivers many revocations at once.
    if (now() - purgedAt < 60_000) return
    purgedAt = now()
    const nowSec = Math.floor(purgedAt / 1000)
    for (const [id, exp] of revoked) if (exp < nowSec - settings.clockToleranceSec) revoked.delete(id)
  }
  const events =
    options.revocationEventsUri === undefined
      ? undefined
      : new RevocationEvents({
          url: new URL(options.revocationEventsUri),
          onRevoked: revoke,
          onKeysChanged: () => {
            jwks?.refresh().then(() => {
              notify()
            }, () => undefined)
          },
          onError: options.onError,
        })

  const check = (token: string) =>
    verifyAccessToken(token, {
      issuer: options.issuer,
      audience: settings.acceptedAudiences,
      algorithms: settings.algorithms,
      now: Math.floor(now() / 1000),
      clockToleranceSec: settings.clockToleranceSec,
      keyFor,
    })

  const verifyCached = (token: string): VerifiedToken | undefined => {
    // A cached token is only as good as its key: a key dropped (emergency rotation), replaced
    // under the same kid, or gone stale sends the token back through full verification.
    const verified = cache.get(token, keyFor)
    if (verified === undefined) return undefined
    const nowSec = Math.floor(now() / 1000)
    const leeway = settings.clockToleranceSec
    if (verified.claims.exp <= nowSec - leeway) throw refusal('expired')
    if (verified.claims.nbf !== undefined && verified.claims.nbf > nowSec + leeway) throw refusal('not_yet_valid')
    if (revoked.has(verified.claims.jti)) throw new VerificationError('ERR_TOKEN_REVOKED', 'the token has been revoked')
    return verified
  }

  return {
    async verify(token) {
      if (token === '') throw new VerificationError('ERR_TOKEN_MISSING', 'no access token was presented')
      if (token.length > settings.maxTokenLength) throw new VerificationError('ERR_TOKEN_MALFORMED', 'the token is too long')
      const hit = verifyCached(token)
      if (hit !== undefined) return hit
      let result = check(token)
      if (!result.ok && result.reason === 'unknown_kid' && jwks) {
        if (!jwks.ready) throw new VerificationError('ERR_JWKS_UNAVAILABLE', "the issuer's keys cannot be fetched")
        const kid = headerKid(token)
        if (kid !== undefined && (await jwks.getKey(kid)) !== undefined) result = check(token)
      }
      if (!result.ok) throw refusal(result.reason)
      const { claims } = result
      const verified: VerifiedToken = {
        claims,
        subject: claims.sub,
        clientId: claims.client_id,
        scopes: new Set(claims.scope.split(' ').filter(Boolean)),
        chain: actChain(claims.act),
        kid: result.kid,
        forwarded: settings.forwarding && !audienceList(claims.aud).some((aud) => settings.audiences.includes(aud)),
      }
      cache.set(token, verified, { jti: claims.jti, kid: result.kid, key: keyFor(result.kid)! })
      if (revoked.has(claims.jti)) throw new VerificationError('ERR_TOKEN_REVOKED', 'the token has been revoked')
      return verified
    },
    verifyCached,
    revoke,
    async start() {
      await jwks?.start()
      await events?.start()
    },
    async refreshKeys() {
      await jwks?.refresh()
      notify()
    },
    onInvalidate(listener) {
      invalidated.add(listener)
      return () => {
        invalidated.delete(listener)
      }
    },
    close() {
      jwks?.close()
      events?.close()
    },
  }
}

function refusal(reason: AccessTokenFailure): VerificationError {
  const [code, message] = REASONS[reason]
  return new VerificationError(code, message)
}

function headerKid(token: string): string | undefined {
  const header = decodeBase64url(token.slice(0, token.indexOf('.')))
  try {
    const kid: unknown = header && (JSON.parse(header.toString('utf8')) as { kid?: unknown }).kid
    return typeof kid === 'string' && kid !== '' && kid.length <= 256 ? kid : undefined
  } catch {
    return undefined
  }
}

interface Settings {
  /** This service's own audiences. */
  audiences: readonly string[]
  /** Those and the forwarded ones: what `aud` must name one of. */
  acceptedAudiences: readonly string[]
  /** Whether there are forwarded ones. */
  forwarding: boolean
  jwksUri: URL | undefined
  algorithms: readonly SigningAlgorithm[]
  clockToleranceSec: number
  maxTokenLength: number
  cacheSize: number
}

function checkOptions(options: VerifierOptions): Settings {
  if (typeof options.issuer !== 'string' || options.issuer === '') throw new TypeError('issuer must be a non-empty string')
  const audiences: readonly string[] = typeof options.audience === 'string' ? [options.audience] : options.audience
  if (!isNameList(audiences) || audiences.length === 0) throw new TypeError('audience must be a non-empty string or array of non-empty strings')
  const forwarded: readonly string[] = options.forwardedAudiences ?? []
  if (!isNameList(forwarded) || forwarded.some((aud) => audiences.includes(aud))) {
    throw new TypeError("forwardedAudiences must be an array of non-empty strings, none of them this service's own audience")
  }
  if ((options.jwksUri === undefined) === (options.keys === undefined)) throw new TypeError('give exactly one of jwksUri and keys')
  let jwksUri: URL | undefined
  if (options.jwksUri !== undefined) {
    jwksUri = new URL(options.jwksUri)
    if (jwksUri.protocol !== 'https:' && jwksUri.protocol !== 'http:') throw new TypeError('jwksUri must be an http(s) URL')
  }
  const algorithms = options.algorithms ?? signingAlgorithms
  if (algorithms.length === 0 || !algorithms.every(isSigningAlgorithm)) {
    throw new TypeError(`algorithms must be a non-empty list drawn from ${signingAlgorithms.join(', ')}`)
  }
  const integer = (name: string, value: number | undefined, fallback: number, min: number, max: number) => {
    const n = value ?? fallback
    if (!Number.isInteger(n) || n < min || n > max) throw new TypeError(`${name} must be an integer from ${min} to ${max}`)
    return n
  }
  return {
    audiences,
    acceptedAudiences: [...audiences, ...forwarded],
    forwarding: forwarded.length > 0,
    jwksUri,
    algorithms,
    clockToleranceSec: integer('clockToleranceSec', options.clockToleranceSec, 30, 0, 300),
    maxTokenLength: integer('maxTokenLength', options.maxTokenLength, MAX_TOKEN_LENGTH, 256, 65536),
    cacheSize: integer('cacheSize', options.cacheSize, 10_000, 0, 10_000_000),
  }
}

/** Checked at run time: a JavaScript caller or a configuration file gets past the types. */
function isNameList(value: unknown): boolean {
  return Array.isArray(value) && value.every((item: unknown) => typeof item === 'string' && item !== '')
}

function importStaticKeys(keys: readonly StaticKey[], algorithms: readonly SigningAlgorithm[]): Map<string, VerificationKey> {
  const map = new Map<string, VerificationKey>()
  for (const jwk of keys) {
    if (typeof jwk.kid !== 'string' || jwk.kid === '') throw new TypeError('every key needs a kid')
    if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((member) => member in jwk)) throw new TypeError(`key ${jwk.kid} is not a public key`)
    const alg = jwk.alg ?? ({ EC: 'ES256', OKP: 'EdDSA', RSA: 'RS256' } as Record<string, string | undefined>)[jwk.kty ?? '']
    if (!isSigningAlgorithm(alg) || !algorithms.includes(alg)) throw new TypeError(`key ${jwk.kid} has an algorithm that is not allowed`)
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' })
    if (!keyMatchesAlgorithm(alg, publicKey)) throw new TypeError(`key ${jwk.kid} does not fit ${alg} (RSA keys need 2048 bits)`)
    map.set(jwk.kid, { alg, publicKey })
  }
  return map
}
