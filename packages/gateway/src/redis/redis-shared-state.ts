import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { RedisConfig } from '../config/schema.js'
import { RedisPhantomCache } from '../phantom/redis-phantom-cache.js'
import { MemoryRateLimitStore } from '../rate-limit/memory-rate-limit-store.js'
import { RedisRateLimitStore } from '../rate-limit/redis-rate-limit-store.js'
import { RedisRevocations } from '@meshguard/service-kit'

/** What sharing state needs from the gateway around it. */
export interface SharedStateDeps {
  logger: Logger
  now: () => number
  /** A revocation pushed by an authorization server, or read from the set on (re)connection. */
  onRevoked: (jti: string, exp: number) => void
  /** A rate limit answered by this instance's own buckets because Redis could not be asked. */
  onRateLimitFallback?: () => void
}

/**
 * Everything gateway instances share through Redis, on two connections (one for commands, one
 * subscribed): rate-limit buckets, the phantom-token cache under each instance's own, and
 * revocations pushed by the authorization servers. Commands never queue while Redis is away: they
 * fail at once, and each caller decides (ADR 0011). ioredis reconnects by itself, at most a
 * second apart; an outage is logged when it starts and when it ends.
 */
export class RedisSharedState {
  readonly rateLimits: RedisRateLimitStore
  readonly phantoms: RedisPhantomCache
  readonly revocations: RedisRevocations
  readonly #redis: Redis
  readonly #subscriber: Redis
  readonly #logger: Logger
  #down = false
  #loggedAt = Number.NEGATIVE_INFINITY

  constructor(config: RedisConfig, deps: SharedStateDeps) {
    this.#logger = deps.logger
    this.#redis = new Redis(config.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: config.commandTimeoutMs,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    })
    this.#subscriber = this.#redis.duplicate({ commandTimeout: undefined, autoResubscribe: false })
    for (const connection of [this.#redis, this.#subscriber]) {
      connection.on('error', (err: Error) => {
        this.#outage(err)
      })
      connection.on('ready', () => {
        this.#recovered()
      })
    }
    this.rateLimits = new RedisRateLimitStore({
      redis: this.#redis,
      keyPrefix: config.keyPrefix,
      fallback: new MemoryRateLimitStore({ now: deps.now }),
      onFallback: (err) => {
        this.#outage(err)
        deps.onRateLimitFallback?.()
      },
    })
    this.phantoms = new RedisPhantomCache(this.#redis, config.keyPrefix)
    this.revocations = new RedisRevocations({
      subscriber: this.#subscriber,
      redis: this.#redis,
      keyPrefix: config.keyPrefix,
      onRevoked: deps.onRevoked,
      now: deps.now,
      onError: (err) => {
        this.#outage(err)
      },
    })
  }

  /** Both connections up. */
  get connected(): boolean {
    return this.#redis.status === 'ready' && this.#subscriber.status === 'ready'
  }

  /** Connects, waiting at most `waitMs` for both connections; never rejects (reconnection goes on in the background). */
  async connect(waitMs = 1000): Promise<void> {
    const ready = Promise.all(
      [this.#redis, this.#subscriber].map((connection) =>
        connection.connect().catch((err: unknown) => {
          this.#outage(err)
        }),
      ),
    )
    let timer: NodeJS.Timeout | undefined
    await Promise.race([ready, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))])
    clearTimeout(timer)
  }

  async close(): Promise<void> {
    this.revocations.close()
    await Promise.all(
      [this.#redis, this.#subscriber].map(async (connection) => {
        if (connection.status === 'ready') await connection.quit().catch(() => undefined)
        connection.disconnect()
      }),
    )
  }

  /** Logged when an outage starts, and at most once a minute while commands keep failing on a live connection (timeouts). */
  #outage(err: unknown): void {
    const now = performance.now()
    if (this.#down && now - this.#loggedAt < 60_000) return
    this.#down = true
    this.#loggedAt = now
    this.#logger.warn(
      { err },
      'Redis cannot be reached: opaque tokens not in this instance’s memory get 503, rate limits fall back to this instance’s buckets, JWTs are served as before; reconnecting',
    )
  }

  #recovered(): void {
    if (!this.#down || !this.connected) return
    this.#down = false
    this.#logger.info('Redis is reachable again: shared rate limits, phantom-token cache and pushed revocations resume')
  }
}
