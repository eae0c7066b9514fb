import { createHash, hkdfSync, randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { epochSeconds, type Clock } from '../clock.js'
import { open, seal } from '../crypto/key-encryption.js'
import type { Store } from '../store/store.js'
import type { AccessTokenClaims } from '@meshguard/token'

/** Reference tokens start with this, so a leaked one is recognisable (and findable by secret scanners). */
export const REFERENCE_TOKEN_PREFIX = 'mgat_'

const REFERENCE_TOKEN = /^mgat_[A-Za-z0-9_-]{43}$/
const SEALING_INFO = 'meshguard reference token jwt'
const DEFAULT_CACHE_SIZE = 10_000

/** Whether a token is meant as a reference token (a JWT never starts with the prefix). */
export function isReferenceToken(token: string): boolean {
  return token.startsWith(REFERENCE_TOKEN_PREFIX)
}

/** What the store keeps to find a reference token: its SHA-256, base64url. */
export function referenceTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

export interface ReferenceTokensOptions {
  store: Pick<Store, 'saveReferenceToken' | 'getReferenceToken'>
  clock: Clock
  logger?: Logger | undefined
  /** How many resolved tokens are kept in memory; 10,000 by default. */
  cacheSize?: number | undefined
}

/**
 * Opaque access tokens that stand for a JWT kept by the server: `mgat_` and 256 random bits,
 * base64url. The store holds the token's SHA-256 and the JWT sealed (AES-256-GCM) under a key
 * derived from the token with HKDF, so neither the token nor a usable JWT can be read from it.
 * Resolved tokens are kept in memory until they expire; the mapping never changes, and
 * revocation is checked on the JWT's `jti` every time.
 *
 * @example
 * const tokens = new ReferenceTokens({ store, clock })
 * const opaque = await tokens.issue(jwt, claims)
 * await tokens.resolve(opaque) // jwt
 */
export class ReferenceTokens {
  readonly #options: ReferenceTokensOptions
  readonly #cache = new Map<string, { jwt: string; expiresAt: number }>()
  readonly #cacheSize: number

  constructor(options: ReferenceTokensOptions) {
    this.#options = options
    this.#cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE
  }

  /** Stores a signed access token and returns a new opaque token that stands for it. */
  async issue(jwt: string, claims: Pick<AccessTokenClaims, 'jti' | 'client_id' | 'exp'>): Promise<string> {
    const token = `${REFERENCE_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
    const tokenHash = referenceTokenHash(token)
    await this.#options.store.saveReferenceToken({
      tokenHash,
      jti: claims.jti,
      clientId: claims.client_id,
      expiresAt: claims.exp,
      sealedJwt: seal(Buffer.from(jwt, 'utf8'), sealingKey(token), tokenHash),
    })
    this.#remember(token, jwt, claims.exp)
    return token
  }

  /** The JWT a reference token stands for, or undefined for one this server did not issue or has purged. */
  async resolve(token: string): Promise<string | undefined> {
    if (!REFERENCE_TOKEN.test(token)) return undefined
    const cached = this.#cache.get(token)
    if (cached !== undefined) {
      if (cached.expiresAt >= epochSeconds(this.#options.clock)) return cached.jwt
      this.#cache.delete(token)
    }
    const tokenHash = referenceTokenHash(token)
    const record = await this.#options.store.getReferenceToken(tokenHash)
    if (record === undefined) return undefined
    let jwt: string
    try {
      jwt = open(record.sealedJwt, sealingKey(token), tokenHash).toString('utf8')
    } catch {
      this.#options.logger?.error({ jti: record.jti, event: 'reference_token.unsealable' }, 'a stored reference token does not open with its token: the store was altered')
      return undefined
    }
    this.#remember(token, jwt, record.expiresAt)
    return jwt
  }

  #remember(token: string, jwt: string, expiresAt: number): void {
    if (this.#cache.size >= this.#cacheSize) {
      const oldest = this.#cache.keys().next()
      if (oldest.done !== true) this.#cache.delete(oldest.value)
    }
    this.#cache.set(token, { jwt, expiresAt })
  }
}

function sealingKey(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', token, Buffer.alloc(0), SEALING_INFO, 32))
}
