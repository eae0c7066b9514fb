import type { VerifiedToken } from './verified-token.js'

/**
 * Tokens already verified, keyed by the whole token string, bounded (least recently used goes
 * first). Entries are only a shortcut past the signature: `exp` and `nbf` are checked on every
 * hit, and a revoked `jti` is evicted.
 */
export class TokenCache {
  readonly #entries = new Map<string, VerifiedToken>()
  readonly #byJti = new Map<string, string>()

  constructor(readonly maxEntries: number) {}

  get(token: string): VerifiedToken | undefined {
    const hit = this.#entries.get(token)
    if (hit !== undefined) {
      this.#entries.delete(token)
      this.#entries.set(token, hit)
    }
    return hit
  }

  set(token: string, verified: VerifiedToken): void {
    if (this.maxEntries === 0) return
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.entries().next()
      if (!oldest.done) this.delete(oldest.value[0], oldest.value[1])
    }
    this.#entries.set(token, verified)
    this.#byJti.set(verified.claims.jti, token)
  }

  /** Evicts the token carrying this `jti`, if cached. */
  evict(jti: string): void {
    const token = this.#byJti.get(jti)
    const verified = token === undefined ? undefined : this.#entries.get(token)
    if (token !== undefined && verified !== undefined) this.delete(token, verified)
  }

  delete(token: string, verified: VerifiedToken): void {
    this.#entries.delete(token)
    if (this.#byJti.get(verified.claims.jti) === token) this.#byJti.delete(verified.claims.jti)
  }

  get size(): number {
    return this.#entries.size
  }
}
