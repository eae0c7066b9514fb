import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { MemoryRateLimitStore, RedisRateLimitStore } from '../src/index.js'
import { deadUrl } from './helpers/echo-upstream.js'
import { describeRateLimitStore } from './rate-limit-store-conformance.js'

/** The machine's Redis (scripts/ensure-services.sh); every test file keeps to its own key prefix. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const keyPrefix = `meshguard-test-${randomBytes(6).toString('hex')}:`

describeRateLimitStore(
  'RedisRateLimitStore',
  () => new RedisRateLimitStore({ redis: REDIS_URL, keyPrefix }),
  // Redis keeps its own time: the suite's clock waits.
  () => ({ now: Date.now, advance: (ms) => sleep(ms) }),
)

describe('RedisRateLimitStore', () => {
  const redis = new Redis(REDIS_URL)
  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
  })

  it('holds one allowance across stores on separate connections, under concurrent takes', async () => {
    const stores = [new RedisRateLimitStore({ redis: REDIS_URL, keyPrefix }), new RedisRateLimitStore({ redis: REDIS_URL, keyPrefix })]
    const limit = { ratePerSec: 0.01, burst: 10 }
    const waits = await Promise.all(Array.from({ length: 40 }, (_, i) => Promise.resolve(stores[i % 2]!.take('shared', limit))))
    expect(waits.filter((wait) => wait === 0)).toHaveLength(10)
    expect(waits.filter((wait) => wait > 0)).toHaveLength(30)
    await Promise.all(stores.map((store) => store.close()))
  })

  it('keeps a bucket only until it would be full again', async () => {
    const store = new RedisRateLimitStore({ redis, keyPrefix })
    await store.take('ttl', { ratePerSec: 2, burst: 4 })
    const ttl = await redis.pttl(`${keyPrefix}ratelimit:ttl`)
    // One token short of the burst at 2/s: 500 ms, plus a second of slack.
    expect(ttl).toBeGreaterThan(1000)
    expect(ttl).toBeLessThanOrEqual(1500)
    expect(redis.status).toBe('ready')
  })

  it('answers from its fallback at once, without a promise, while Redis cannot be reached', async () => {
    const unreachable = new Redis(`redis${(await deadUrl()).slice(4)}`, { lazyConnect: true, enableOfflineQueue: false })
    const fallbacks: Error[] = []
    const store = new RedisRateLimitStore({ redis: unreachable, keyPrefix, fallback: new MemoryRateLimitStore(), onFallback: (err) => fallbacks.push(err) })
    expect(store.take('k', { ratePerSec: 1, burst: 1 })).toBe(0)
    expect(store.take('k', { ratePerSec: 1, burst: 1 })).toBeGreaterThan(0)
    expect(fallbacks).toHaveLength(2)
    await store.close()
    unreachable.disconnect()
  })

  it('rejects while Redis cannot be reached when it has no fallback', async () => {
    const unreachable = new Redis(`redis${(await deadUrl()).slice(4)}`, { lazyConnect: true, enableOfflineQueue: false })
    const store = new RedisRateLimitStore({ redis: unreachable, keyPrefix })
    await expect(store.take('k', { ratePerSec: 1, burst: 1 })).rejects.toThrow()
    unreachable.disconnect()
  })
})
