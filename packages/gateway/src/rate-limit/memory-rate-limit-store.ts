import type { RateLimit, RateLimitStore } from './rate-limit-store.js'

export interface MemoryRateLimitStoreOptions {
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  now?: () => number
  /** Buckets kept at most; past it, full (idle) buckets are forgotten first, then the oldest. Default 100,000. */
  maxBuckets?: number
}

interface Bucket {
  tokens: number
  at: number
}

/**
 * Token buckets in this process's memory: exact, synchronous, and per gateway instance (a
 * client may get each instance's allowance). A full bucket is the same as none, so forgetting
 * idle buckets changes nothing.
 *
 * @example
 * const store = new MemoryRateLimitStore()
 * store.take('client:web', { ratePerSec: 10, burst: 20 }) // 0: allowed
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #buckets = new Map<string, Bucket>()
  readonly #now: () => number
  readonly #maxBuckets: number

  /** @throws TypeError for a `maxBuckets` that is not a positive integer. */
  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#maxBuckets = options.maxBuckets ?? 100_000
    if (!Number.isInteger(this.#maxBuckets) || this.#maxBuckets < 1) throw new TypeError('maxBuckets must be a positive integer')
  }

  take(key: string, { ratePerSec, burst }: RateLimit): number {
    const now = this.#now()
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxBuckets) this.#evict(now, ratePerSec, burst)
      bucket = { tokens: burst, at: now }
      this.#buckets.set(key, bucket)
    } else if (now > bucket.at) {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * ratePerSec) / 1000)
      bucket.at = now
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 1000) / ratePerSec))
  }

  /** How many buckets are held; for tests. */
  get size(): number {
    return this.#buckets.size
  }

  /**
   * Forgets buckets that have refilled (judged by the settings of the request at hand; buckets
   * of other routes may be forgotten a little early), then, if none had, the oldest tenth.
   */
  #evict(now: number, ratePerSec: number, burst: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) * ratePerSec) / 1000 >= burst) this.#buckets.delete(key)
    }
    if (this.#buckets.size < this.#maxBuckets) return
    let drop = Math.max(1, Math.floor(this.#maxBuckets / 10))
    for (const key of this.#buckets.keys()) {
      if (drop-- === 0) break
      this.#buckets.delete(key)
    }
  }
}
