import type { VerificationKey } from './access-token.js'

interface Entry<V> {
  value: V
  jti: string
  kid: string
  /** The key object that checked the signature: a hit counts only while the same one is published. */
  key: VerificationKey
}

/** What a cached token was verified with. */
export interface VerifiedWith {
  jti: string
  kid: string
  key: VerificationKey
}

/**
 * Tokens already verified, keyed by the whole token string, bounded (least recently used goes
 * first). Entries are only a shortcut past the signature: the caller checks `exp` and `nbf` on
 * every hit, a revoked `jti` is evicted, and a hit counts only while the key that verified it is
 * still the one published under its `kid` (a key dropped, replaced or gone stale is a miss).
 *
 * @example
 * const cache = new TokenCache<AccessTokenClaims>(10_000)
 * const claims = cache.get(token, (kid) => keys.get(kid))
 */
export class TokenCache<V> {
  readonly #entries = new Map<string, Entry<V>>()
  readonly #byJti = new Map<string, string>()

  constructor(readonly maxEntries: number) {}

  get(token: string, currentKey: (kid: string) => VerificationKey | undefined): V | undefined {
    const hit = this.#entries.get(token)
    if (hit === undefined) return undefined
    if (currentKey(hit.kid) !== hit.key) {
      this.#delete(token, hit)
      return undefined
    }
    this.#entries.delete(token)
    this.#entries.set(token, hit)
    return hit.value
  }

  set(token: string, value: V, verifiedWith: VerifiedWith): void {
    if (this.maxEntries === 0) return
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.entries().next()
      if (!oldest.done) this.#delete(oldest.value[0], oldest.value[1])
    }
    this.#entries.set(token, { value, ...verifiedWith })
    this.#byJti.set(verifiedWith.jti, token)
  }

  /** Evicts the token carrying this `jti`, if cached. */
  evict(jti: string): void {
    const token = this.#byJti.get(jti)
    const entry = token === undefined ? undefined : this.#entries.get(token)
    if (token !== undefined && entry !== undefined) this.#delete(token, entry)
  }

  get size(): number {
    return this.#entries.size
  }

  #delete(token: string, entry: Entry<V>): void {
    this.#entries.delete(token)
    if (this.#byJti.get(entry.jti) === token) this.#byJti.delete(entry.jti)
  }
}
