import { VerificationError, type Verifier } from '@meshguard/service-kit'
import { MAX_TOKEN_LENGTH } from '@meshguard/token'
import { GatewayError } from '../errors.js'
import type { PhantomOutcome } from '../observability/gateway-metrics.js'
import type { Introspection } from '../phantom/introspection-client.js'
import type { PhantomCache } from '../phantom/phantom-cache.js'
import type { SharedPhantomCache } from '../phantom/shared-phantom-cache.js'
import { phantomTokenId } from '../phantom/token-id.js'
import { jwtTokenResolver, type ResolvedToken, type TokenResolver, type TokenResolverFactory } from './token-resolver.js'

export interface PhantomTokenOptions {
  /** The exchange at the authorization server; rejects with a `GatewayError` when it cannot be had. */
  introspection: { exchange(token: string): Promise<Introspection> }
  /** This instance's memory of exchanged tokens. */
  cache: PhantomCache
  /** The cache shared by every instance (Redis); without it, memory only. */
  shared?: SharedPhantomCache | undefined
  /** Exchanges of distinct tokens in flight at once; past it, 503. */
  maxPending: number
  onExchange?: (outcome: PhantomOutcome) => void
  /** An exchange could not be written to the shared cache (the request goes on). */
  onError?: (err: unknown) => void
}

/**
 * The resolver for phantom tokens (ADR 0010): a JWT (exactly two dots) is verified in place; any
 * other token is opaque and is swapped for the JWT it stands for, found in this instance's memory,
 * else in the shared cache, else by introspection, then verified by the verifier like any JWT
 * (signature, issuer, audience, expiry, revocation) on every use. One exchange per token at a
 * time, however many requests carry it. An exchange is kept until its JWT expires and forgotten
 * when its `jti` is revoked. Fails closed: introspection or the shared cache unreachable and
 * nothing in memory is a 503, an inactive token a 401.
 *
 * @example
 * const resolver = phantomTokenResolver({ introspection: new IntrospectionClient(config), cache: new PhantomCache(10_000, Date.now), maxPending: 1000 })(verifier)
 */
export function phantomTokenResolver(options: PhantomTokenOptions): TokenResolverFactory {
  const { introspection, cache, shared, maxPending } = options
  return (verifier: Verifier): TokenResolver => {
    const jwts = jwtTokenResolver(verifier)
    const pending = new Map<string, Promise<ResolvedToken>>()

    const verify = async (jwt: string): Promise<ResolvedToken> => ({ verified: await verifier.verify(jwt), jwt })

    const exchange = async (token: string, id: string): Promise<ResolvedToken> => {
      let outcome: PhantomOutcome = 'failed'
      try {
        let jwt = shared === undefined ? undefined : await fromShared(shared, token, id)
        const source = jwt === undefined ? 'introspected' : 'shared'
        if (jwt === undefined) {
          const answer = await introspection.exchange(token)
          if (!answer.active) {
            outcome = 'inactive'
            // RFC 7662 §2.2 says no more than "not active": unknown, expired or revoked alike.
            throw new VerificationError('ERR_TOKEN_INACTIVE', 'the token is not active: unknown to the issuer, expired or revoked')
          }
          jwt = answer.jwt
        }
        const resolved = await verify(jwt)
        outcome = source
        const entry = { jwt, jti: resolved.verified.claims.jti, expiresAt: resolved.verified.claims.exp * 1000 }
        cache.set(id, entry)
        if (source === 'introspected' && shared?.available === true) shared.set(token, id, entry).catch((err: unknown) => {
            options.onError?.(err)
          })
        return resolved
      } finally {
        options.onExchange?.(outcome)
      }
    }

    return {
      resolveNow(token) {
        if (isJwt(token)) return jwts.resolveNow(token)
        const entry = cache.get(phantomTokenId(token))
        if (entry === undefined) return undefined
        const verified = verifier.verifyCached(entry.jwt)
        return verified === undefined ? undefined : { verified, jwt: entry.jwt }
      },
      resolve(token) {
        if (isJwt(token)) return jwts.resolve(token)
        if (token.length > MAX_TOKEN_LENGTH) return Promise.reject(new VerificationError('ERR_TOKEN_MALFORMED', 'the token is too long'))
        const id = phantomTokenId(token)
        const entry = cache.get(id)
        if (entry !== undefined) return verify(entry.jwt)
        const inFlight = pending.get(id)
        if (inFlight !== undefined) return inFlight
        if (pending.size >= maxPending) {
          return Promise.reject(new GatewayError('ERR_INTROSPECTION_UNAVAILABLE', 'too many tokens are being checked at once; try again shortly'))
        }
        const settled = exchange(token, id).finally(() => pending.delete(id))
        pending.set(id, settled)
        return settled
      },
    }
  }
}

/** Fail closed: a shared cache that cannot be asked is not a miss, since introspecting instead would hide the outage behind a stampede on the authorization server (ADR 0011). */
async function fromShared(shared: SharedPhantomCache, token: string, id: string): Promise<string | undefined> {
  if (!shared.available) throw new GatewayError('ERR_SHARED_STATE_UNAVAILABLE', 'the token cannot be checked now: the gateways’ shared state is unreachable')
  try {
    return await shared.get(token, id)
  } catch (err) {
    throw new GatewayError('ERR_SHARED_STATE_UNAVAILABLE', 'the token cannot be checked now: the gateways’ shared state is unreachable', { cause: err })
  }
}

/** A JWS compact serialisation has exactly two dots (RFC 7515 §7.1); anything else is taken as opaque. */
export function isJwt(token: string): boolean {
  const first = token.indexOf('.')
  if (first < 0) return false
  const second = token.indexOf('.', first + 1)
  return second >= 0 && !token.includes('.', second + 1)
}
