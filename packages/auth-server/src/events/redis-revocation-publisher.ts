import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { epochSeconds, type Clock } from '../clock.js'
import type { RevocationBus, TokenRevokedEvent } from './revocation-bus.js'

/** Revocations that could not be published, kept for the next connection; the oldest go first. */
const MAX_PENDING = 10_000
/** Members of the set are kept this long past their token's expiry, for verifiers' clock tolerance. */
const KEEP_PAST_EXPIRY_SEC = 300
const RESEED_BATCH = 1000

export interface RedisRevocationPublisherOptions {
  /** `redis://` or `rediss://`. */
  url: string
  /** Prefix of the channel (`<keyPrefix>revocations`) and the set (`<keyPrefix>revoked`). */
  keyPrefix: string
  bus: RevocationBus
  /** Every revocation still in force, `jti` → `exp` (seconds): written to the set on each connection. */
  revoked: () => ReadonlyMap<string, number>
  clock: Clock
  logger: Logger
}

/** The channel and set names under a key prefix; the gateways use the same. */
export function revocationKeys(keyPrefix: string): { channel: string; set: string } {
  return { channel: `${keyPrefix}revocations`, set: `${keyPrefix}revoked` }
}

/**
 * One more subscriber of the revocation bus: each revocation, this instance's or one learnt from
 * the store, is added to the sorted set `<keyPrefix>revoked` (score: `exp`) and published on
 * `<keyPrefix>revocations` as `{"jti","exp"}`, the payload of the SSE stream's `revoked` event,
 * in one transaction. A subscriber that subscribes first and then reads the set misses nothing.
 *
 * Redis being away never holds up a revocation: it is stored and announced on the SSE stream as
 * before. What could not be published is kept and published on reconnection, and every
 * (re)connection writes the whole list of revocations in force to the set, so a Redis restarted
 * empty is filled again. Several instances publishing the same revocation is harmless.
 *
 * @example
 * const publisher = new RedisRevocationPublisher({ url, keyPrefix: 'meshguard:', bus, revoked: () => directory.revoked(), clock, logger })
 * publisher.start()
 */
export class RedisRevocationPublisher {
  readonly #options: RedisRevocationPublisherOptions
  readonly #keys: { channel: string; set: string }
  readonly #redis: Redis
  readonly #pending = new Map<string, number>()
  #unsubscribe: (() => void) | undefined
  /** An outage is logged once, when it starts. */
  #failing = false

  constructor(options: RedisRevocationPublisherOptions) {
    this.#options = options
    this.#keys = revocationKeys(options.keyPrefix)
    this.#redis = new Redis(options.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 5000 })
    this.#redis.on('ready', () => {
      if (this.#failing) options.logger.info('Redis is reachable again: publishing revocations')
      this.#failing = false
      void this.#reseed()
    })
    this.#redis.on('error', (err: Error) => {
      this.#outage(err)
    })
  }

  /** Subscribes to the bus and connects; reconnects by itself. */
  start(): void {
    this.#unsubscribe ??= this.#options.bus.subscribe((event) => {
      void this.#publish(event)
    })
    this.#redis.connect().catch((err: unknown) => {
      this.#outage(err)
    })
  }

  async close(): Promise<void> {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => undefined)
    this.#redis.disconnect()
  }

  async #publish({ jti, expiresAt }: TokenRevokedEvent): Promise<void> {
    try {
      if (this.#redis.status !== 'ready') throw new Error(`Redis is ${this.#redis.status}`)
      await this.#redis
        .multi()
        .zadd(this.#keys.set, expiresAt, jti)
        .zremrangebyscore(this.#keys.set, '-inf', this.#cutoff())
        .publish(this.#keys.channel, JSON.stringify({ jti, exp: expiresAt }))
        .exec()
    } catch (err) {
      this.#keep(jti, expiresAt)
      this.#outage(err)
    }
  }

  /** On each connection: the set filled with every revocation in force, then what could not be published. */
  async #reseed(): Promise<void> {
    const pending = [...this.#pending]
    this.#pending.clear()
    try {
      const transaction = this.#redis.multi()
      const revoked = [...this.#options.revoked()]
      for (let at = 0; at < revoked.length; at += RESEED_BATCH) {
        transaction.zadd(this.#keys.set, ...revoked.slice(at, at + RESEED_BATCH).flatMap(([jti, exp]) => [exp, jti]))
      }
      for (const [jti, exp] of pending) transaction.zadd(this.#keys.set, exp, jti)
      transaction.zremrangebyscore(this.#keys.set, '-inf', this.#cutoff())
      for (const [jti, exp] of pending) transaction.publish(this.#keys.channel, JSON.stringify({ jti, exp }))
      await transaction.exec()
    } catch (err) {
      for (const [jti, exp] of pending) this.#keep(jti, exp)
      this.#outage(err)
    }
  }

  #keep(jti: string, exp: number): void {
    if (this.#pending.size >= MAX_PENDING) {
      const oldest = this.#pending.keys().next()
      if (oldest.done !== true) this.#pending.delete(oldest.value)
    }
    this.#pending.set(jti, exp)
  }

  #cutoff(): number {
    return epochSeconds(this.#options.clock) - KEEP_PAST_EXPIRY_SEC
  }

  #outage(err: unknown): void {
    if (this.#failing) return
    this.#failing = true
    this.#options.logger.warn({ err }, 'cannot publish revocations to Redis: they are kept and published on reconnection; the SSE stream is unaffected')
  }
}
