import { OutboundError } from '../errors.js'
import type { IssuedToken } from './token-endpoint.js'

/** How tokens obtained from the token endpoint are reused. */
export interface TokenCachingOptions {
  /**
   * A token is replaced once less than this many seconds of its lifetime remain, or half its
   * lifetime if that is less; default 30, at most 3,600.
   */
  refreshBeforeSec?: number | undefined
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  now?: (() => number) | undefined
  /** Failed refreshes that a still-valid token bridged; never thrown. */
  onError?: ((err: Error) => void) | undefined
}

interface Held {
  token: string
  refreshAt: number
  expiresAt: number
}

/**
 * Tokens per key, each reused until its refresh time, with one request in flight per key however
 * many callers ask at once. A failed request is not remembered: the next caller tries again. When
 * a refresh finds the endpoint unreachable or failing (5xx), the held token is used until it
 * expires; a refusal (4xx) drops it.
 *
 * @example
 * const tokens = new IssuedTokens({ maxEntries: 100 })
 * const token = await tokens.get('payment.read', () => endpoint.request({ grant_type: 'client_credentials', scope: 'payment.read' }))
 */
export class IssuedTokens {
  readonly #held = new Map<string, Held>()
  readonly #inflight = new Map<string, Promise<string>>()
  readonly #refreshBeforeMs: number
  readonly #maxEntries: number
  readonly #now: () => number
  readonly #onError: ((err: Error) => void) | undefined

  /** @throws TypeError naming the option that is not acceptable. */
  constructor(options: TokenCachingOptions & { maxEntries: number }) {
    const refreshBeforeSec = options.refreshBeforeSec ?? 30
    if (!Number.isInteger(refreshBeforeSec) || refreshBeforeSec < 0 || refreshBeforeSec > 3600) {
      throw new TypeError('refreshBeforeSec must be an integer from 0 to 3600')
    }
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('now must be a function')
    if (options.onError !== undefined && typeof options.onError !== 'function') throw new TypeError('onError must be a function')
    this.#refreshBeforeMs = refreshBeforeSec * 1000
    this.#maxEntries = options.maxEntries
    this.#now = options.now ?? Date.now
    this.#onError = options.onError
  }

  /** The token held for `key`, or the one `obtain` resolves to, shared with every concurrent caller. */
  get(key: string, obtain: () => Promise<IssuedToken>): Promise<string> {
    const held = this.#held.get(key)
    if (held !== undefined && this.#now() < held.refreshAt) return Promise.resolve(held.token)
    let pending = this.#inflight.get(key)
    if (pending === undefined) {
      pending = this.#obtain(key, obtain).finally(() => this.#inflight.delete(key))
      this.#inflight.set(key, pending)
    }
    return pending
  }

  async #obtain(key: string, obtain: () => Promise<IssuedToken>): Promise<string> {
    // The lifetime runs from before the request, so the token is never thought to live longer than it does.
    const requestedAt = this.#now()
    let issued: IssuedToken
    try {
      issued = await obtain()
    } catch (err) {
      const held = this.#held.get(key)
      if (held !== undefined && this.#now() < held.expiresAt && isTransient(err)) {
        this.#report(err)
        return held.token
      }
      this.#held.delete(key)
      throw err
    }
    this.#held.delete(key)
    const lifetimeMs = (issued.expiresInSec ?? 0) * 1000
    if (lifetimeMs > 0) {
      this.#held.set(key, {
        token: issued.accessToken,
        refreshAt: requestedAt + lifetimeMs - Math.min(this.#refreshBeforeMs, lifetimeMs / 2),
        expiresAt: requestedAt + lifetimeMs,
      })
      if (this.#held.size > this.#maxEntries) this.#evict()
    }
    return issued.accessToken
  }

  /** Drops expired tokens, then the oldest until the limit is met. */
  #evict(): void {
    const now = this.#now()
    for (const [key, held] of this.#held) if (held.expiresAt <= now) this.#held.delete(key)
    for (const key of this.#held.keys()) {
      if (this.#held.size <= this.#maxEntries) break
      this.#held.delete(key)
    }
  }

  #report(error: Error): void {
    try {
      this.#onError?.(error)
    } catch {
      // ignored: reporting is best effort
    }
  }
}

function isTransient(err: unknown): err is OutboundError {
  if (!(err instanceof OutboundError)) return false
  return err.code === 'ERR_TOKEN_ENDPOINT_UNREACHABLE' || (err.code === 'ERR_TOKEN_ENDPOINT' && (err.status ?? 0) >= 500)
}
