import { Redis } from 'ioredis'
import { luaCommand } from '../redis/lua-command.js'
import type { RateLimit, RateLimitStore } from './rate-limit-store.js'

/**
 * One token bucket, taken from atomically: refilled by the time elapsed on Redis's own clock (the
 * same for every gateway instance), one token taken if there is one, otherwise the milliseconds
 * until there will be. A bucket is a hash (`tokens`, `at`) that expires once it would be full
 * again, so idle buckets cost nothing. Numbers are written with `string.format`: Lua's
 * `tostring` keeps 14 digits, too few for milliseconds since the epoch.
 */
const TAKE_TOKEN = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
elseif now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
else
  now = at
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.max(1, math.ceil((1 - tokens) * 1000 / rate))
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return wait
`

export interface RedisRateLimitStoreOptions {
  /**
   * A URL, for a connection of the store's own (closed with it), or a connection shared with the
   * rest of the gateway (left open on `close`).
   */
  redis: Redis | string
  /** Keys are `<keyPrefix>ratelimit:<bucket>`. Default `meshguard:`. */
  keyPrefix?: string
  /**
   * Where buckets are taken while Redis cannot be reached (not connected, an error, a timeout).
   * Unset: `take` rejects then.
   */
  fallback?: RateLimitStore
  /** Told of each request answered by the fallback, with why. */
  onFallback?: (err: Error) => void
}

/**
 * Token buckets in Redis, shared by every gateway instance: a client gets one allowance however
 * many instances it is spread over. Each take is one atomic Lua script on Redis's clock. While
 * Redis cannot be reached, a `fallback` store (each instance's memory) answers instead, at once,
 * without waiting for a command to fail (ADR 0011).
 *
 * @example
 * const store = new RedisRateLimitStore({ redis: 'redis://127.0.0.1:6379', fallback: new MemoryRateLimitStore() })
 * await store.take('client orders web', { ratePerSec: 10, burst: 20 }) // 0: allowed
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #redis: Redis
  readonly #owned: boolean
  readonly #prefix: string
  readonly #fallback: RateLimitStore | undefined
  readonly #onFallback: ((err: Error) => void) | undefined
  readonly #takeToken: (key: string, ratePerSec: string, burst: string) => Promise<number>

  constructor(options: RedisRateLimitStoreOptions) {
    this.#owned = typeof options.redis === 'string'
    this.#redis = typeof options.redis === 'string' ? new Redis(options.redis, { maxRetriesPerRequest: 1 }) : options.redis
    this.#prefix = `${options.keyPrefix ?? 'meshguard:'}ratelimit:`
    this.#fallback = options.fallback
    this.#onFallback = options.onFallback
    this.#takeToken = luaCommand<number>(this.#redis, 'meshguardTakeToken', 1, TAKE_TOKEN)
  }

  take(key: string, { ratePerSec, burst }: RateLimit): number | Promise<number> {
    const fallback = this.#fallback
    if (fallback === undefined) return this.#takeToken(this.#prefix + key, String(ratePerSec), String(burst))
    if (this.#redis.status !== 'ready') return this.#fallBack(new Error(`Redis is ${this.#redis.status}`), key, { ratePerSec, burst })
    return this.#takeToken(this.#prefix + key, String(ratePerSec), String(burst)).catch((err: unknown) =>
      this.#fallBack(err instanceof Error ? err : new Error(String(err)), key, { ratePerSec, burst }),
    )
  }

  async close(): Promise<void> {
    await this.#fallback?.close?.()
    if (!this.#owned) return
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => undefined)
    this.#redis.disconnect()
  }

  #fallBack(err: Error, key: string, limit: RateLimit): number | Promise<number> {
    this.#onFallback?.(err)
    return this.#fallback!.take(key, limit)
  }
}
