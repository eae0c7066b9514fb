import type { VerificationKey } from './access-token.js'

interface Entry<V> {
  /** The whole token: a hit needs it equal, character for character. */
  token: string
  value: V
  jti: string
  kid: string
  /** The key object that checked the signature: a hit counts only while the same one is published. */
  key: VerificationKey
  /** Read since it last reached the front of the eviction queue: it gets a second chance. */
  used: boolean
}

/** What a cached token was verified with. */
export interface VerifiedWith {
  jti: string
  kid: string
  key: VerificationKey
}

/**
 * Tokens already verified, found by the end of their signature and matched on the whole token
 * string (hashing a few hundred characters per lookup would cost more than the rest of a request's
 * authorisation), bounded: when full, the oldest entry not read since it was last considered goes
 * first (the second-chance approximation of least recently used, so a hit only sets a flag and
 * never reorders the map). Entries are only a shortcut past the signature: the caller checks `exp` and `nbf` on
 * every hit, a revoked `jti` is evicted, and a hit counts only while the key that verified it is
 * still the one published under its `kid` (a key dropped, replaced or gone stale is a miss).
 *
 * @example
 * const cache = new TokenCache<AccessTokenClaims>(10_000)
 * const claims = cache.get(token, (kid) => keys.get(kid))
 */
export class TokenCache<V> {
  /** By {@link lookupKey}. */
  readonly #entries = new Map<string, Entry<V>>()
  /** jti → lookup key. */
  readonly #byJti = new Map<string, string>()

  constructor(readonly maxEntries: number) {}

  get(token: string, currentKey: (kid: string) => VerificationKey | undefined): V | undefined {
    const key = lookupKey(token)
    const hit = this.#entries.get(key)
    if (hit === undefined || hit.token !== token) return undefined
    if (currentKey(hit.kid) !== hit.key) {
      this.#delete(key, hit)
      return undefined
    }
    hit.used = true
    return hit.value
  }

  set(token: string, value: V, verifiedWith: VerifiedWith): void {
    if (this.maxEntries === 0) return
    const key = lookupKey(token)
    const existing = this.#entries.get(key)
    if (existing !== undefined) this.#delete(key, existing)
    // At most one pass over the entries: each read one moves to the back once, flag cleared.
    for (let passes = this.#entries.size; this.#entries.size >= this.maxEntries && passes >= 0; passes -= 1) {
      const [oldestKey, oldest] = this.#entries.entries().next().value!
      if (oldest.used && passes > 0) {
        this.#entries.delete(oldestKey)
        oldest.used = false
        this.#entries.set(oldestKey, oldest)
      } else {
        this.#delete(oldestKey, oldest)
      }
    }
    this.#entries.set(key, { token, value, ...verifiedWith, used: false })
    this.#byJti.set(verifiedWith.jti, key)
  }

  /** Evicts the token carrying this `jti`, if cached. */
  evict(jti: string): void {
    const key = this.#byJti.get(jti)
    const entry = key === undefined ? undefined : this.#entries.get(key)
    if (key !== undefined && entry?.jti === jti) this.#delete(key, entry)
  }

  get size(): number {
    return this.#entries.size
  }

  #delete(key: string, entry: Entry<V>): void {
    this.#entries.delete(key)
    if (this.#byJti.get(entry.jti) === key) this.#byJti.delete(entry.jti)
  }
}

/**
 * The last 32 characters: the end of the signature, which no two tokens signed apart share but
 * by chance. A clash costs a cache miss, never a wrong hit, since the whole token must match.
 */
function lookupKey(token: string): string {
  return token.length <= 32 ? token : token.slice(-32)
}
