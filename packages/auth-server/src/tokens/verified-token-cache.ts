
import type { AccessTokenClaims } from '@meshguard/token'
/**
 * Tokens whose signature and issuer were already checked, keyed by the whole token string, so
 * introspecting or exchanging the same token again skips the signature. Bounded: the oldest
 * entry goes first. Time-dependent checks (`exp`, `nbf`) and revocation are not cached; the
 * caller repeats them on every hit. Cleared whenever the published key set changes.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, AccessTokenClaims>()

  constructor(readonly maxEntries = 10_000) {}

  get(token: string): AccessTokenClaims | undefined {
    return this.#entries.get(token)
  }

  set(token: string, claims: AccessTokenClaims): void {
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.set(token, claims)
  }

  clear(): void {
    this.#entries.clear()
  }

  get size(): number {
    return this.#entries.size
  }
}
