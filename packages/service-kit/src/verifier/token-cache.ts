import type { VerificationKey } from '@meshguard/token'
import type { VerifiedToken } from './verified-token.js'

interface Entry {
  verified: VerifiedToken
  /** The key object that checked the signature: a hit counts only while the same one is published. */
  key: VerificationKey
}

/**
 * Tokens already verified, keyed by the whole token string, bounded (least recently used goes
 * first). Entries are only a shortcut past the signature: `exp` and `nbf` are checked on every
 * hit, a revoked `jti` is evicted, and a hit counts only while the key that verified it is still
 * the one published under its `kid`.
 */
export class TokenCache {
  readonly #entries = new Map<string, Entry>()
  readonly #byJti = new Map<string, string>()

  constructor(readonly maxEntries: number) {}

  /** The cached token, if `currentKey` is the very key object that verified it. */
  get(token: string, currentKey: (kid: string) => VerificationKey | undefined): VerifiedToken | undefined {
    const hit = this.#entries.get(token)
    if (hit === undefined) return undefined
    if (currentKey(hit.verified.kid) !== hit.key) {
      this.delete(token, hit.verified)
      return undefined
    }
    this.#entries.delete(token)
    this.#entries.set(token, hit)
    return hit.verified
  }

  set(token: string, verified: VerifiedToken, key: VerificationKey): void {
    if (this.maxEntries === 0) return
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.entries().next()
      if (!oldest.done) this.delete(oldest.value[0], oldest.value[1].verified)
    }
    this.#entries.set(token, { verified, key })
    this.#byJti.set(verified.claims.jti, token)
  }

  /** Evicts the token carrying this `jti`, if cached. */
  evict(jti: string): void {
    const token = this.#byJti.get(jti)
    const entry = token === undefined ? undefined : this.#entries.get(token)
    if (token !== undefined && entry !== undefined) this.delete(token, entry.verified)
  }

  delete(token: string, verified: VerifiedToken): void {
    this.#entries.delete(token)
    if (this.#byJti.get(verified.claims.jti) === token) this.#byJti.delete(verified.claims.jti)
  }

  get size(): number {
    return this.#entries.size
  }
}
