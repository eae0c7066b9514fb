import { describe, expect, it } from 'vitest'
import { MemoryRateLimitStore } from '../src/index.js'
import { describeRateLimitStore, manualClock } from './rate-limit-store-conformance.js'

describeRateLimitStore('MemoryRateLimitStore', (clock) => new MemoryRateLimitStore({ now: () => clock.now() }), manualClock)

describe('MemoryRateLimitStore', () => {
  it('answers without a promise', () => {
    expect(new MemoryRateLimitStore().take('k', { ratePerSec: 1, burst: 1 })).toBe(0)
  })

  it('forgets full buckets first when it holds too many, then the oldest', () => {
    let now = 0
    const store = new MemoryRateLimitStore({ now: () => now, maxBuckets: 10 })
    const limit = { ratePerSec: 1, burst: 1 }
    for (let i = 0; i < 10; i += 1) store.take(`k${i}`, limit)
    expect(store.size).toBe(10)
    // All ten emptied; none has refilled yet: the oldest tenth goes.
    store.take('k10', limit)
    expect(store.size).toBe(10)
    expect(store.take('k10', limit)).toBeGreaterThan(0)
    now += 1000
    // All refilled: all are forgotten, and the newcomer stays.
    store.take('k11', limit)
    expect(store.size).toBe(1)
  })

  it('refuses a maxBuckets that is not a positive integer', () => {
    expect(() => new MemoryRateLimitStore({ maxBuckets: 0 })).toThrow(TypeError)
  })
})
