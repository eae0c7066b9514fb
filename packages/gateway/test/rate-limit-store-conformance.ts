import { describe, expect, it } from 'vitest'
import type { RateLimitStore } from '../src/index.js'

/** A clock the suite moves; a store that keeps its own time (Redis) is given one that waits. */
export interface ConformanceClock {
  now(): number
  advance(ms: number): Promise<void>
}

/**
 * The behaviour every `RateLimitStore` must have, run against each implementation: buckets start
 * full, hold `burst` tokens, refill at `ratePerSec`, say how long to wait, and are independent
 * by key.
 */
export function describeRateLimitStore(name: string, make: (clock: ConformanceClock) => RateLimitStore | Promise<RateLimitStore>, makeClock: () => ConformanceClock): void {
  describe(`${name} (RateLimitStore conformance)`, () => {
    let unique = 0
    const key = () => `conformance-${Date.now()}-${unique++}`

    it('lets a burst through, then refuses with the time until the next token', async () => {
      const clock = makeClock()
      const store = await make(clock)
      const bucket = key()
      for (let i = 0; i < 3; i += 1) expect(await store.take(bucket, { ratePerSec: 2, burst: 3 })).toBe(0)
      const wait = await store.take(bucket, { ratePerSec: 2, burst: 3 })
      expect(wait).toBeGreaterThan(0)
      expect(wait).toBeLessThanOrEqual(500)
      await store.close?.()
    })

    it('refills at the rate, never beyond the burst', async () => {
      const clock = makeClock()
      const store = await make(clock)
      const bucket = key()
      const limit = { ratePerSec: 10, burst: 2 }
      expect(await store.take(bucket, limit)).toBe(0)
      expect(await store.take(bucket, limit)).toBe(0)
      expect(await store.take(bucket, limit)).toBeGreaterThan(0)
      await clock.advance(100)
      expect(await store.take(bucket, limit)).toBe(0)
      expect(await store.take(bucket, limit)).toBeGreaterThan(0)
      await clock.advance(10_000)
      expect(await store.take(bucket, limit)).toBe(0)
      expect(await store.take(bucket, limit)).toBe(0)
      expect(await store.take(bucket, limit)).toBeGreaterThan(0)
      await store.close?.()
    })

    it('keeps buckets apart by key', async () => {
      const clock = makeClock()
      const store = await make(clock)
      const [first, second] = [key(), key()]
      expect(await store.take(first, { ratePerSec: 1, burst: 1 })).toBe(0)
      expect(await store.take(first, { ratePerSec: 1, burst: 1 })).toBeGreaterThan(0)
      expect(await store.take(second, { ratePerSec: 1, burst: 1 })).toBe(0)
      await store.close?.()
    })

    it('handles a slow rate: one token every two seconds', async () => {
      const clock = makeClock()
      const store = await make(clock)
      const bucket = key()
      expect(await store.take(bucket, { ratePerSec: 0.5, burst: 1 })).toBe(0)
      const wait = await store.take(bucket, { ratePerSec: 0.5, burst: 1 })
      expect(wait).toBeGreaterThan(1000)
      expect(wait).toBeLessThanOrEqual(2000)
      await store.close?.()
    })
  })
}

/** A clock moved by hand. */
export function manualClock(): ConformanceClock {
  let ms = 1_700_000_000_000
  return {
    now: () => ms,
    advance: (by) => {
      ms += by
      return Promise.resolve()
    },
  }
}
