/** A token bucket's settings: `burst` tokens at most, refilled at `ratePerSec`. */
export interface RateLimit {
  readonly ratePerSec: number
  readonly burst: number
}

/**
 * Where token buckets live: in this process (`MemoryRateLimitStore`), or shared by every gateway
 * instance (Redis). A bucket starts full. Every implementation passes the same conformance suite
 * (`test/rate-limit-store-conformance.ts`).
 */
export interface RateLimitStore {
  /**
   * Takes one token from the bucket `key`. Returns 0 when one was taken, otherwise the
   * milliseconds until one will be there (nothing is taken). A store that must ask elsewhere
   * returns a promise; one that answers from memory should not, to keep the request path free
   * of them.
   */
  take(key: string, limit: RateLimit): number | Promise<number>
  /** Releases timers and connections. */
  close?(): void | Promise<void>
}
