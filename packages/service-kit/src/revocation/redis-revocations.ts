import type { Redis } from 'ioredis'

/** Revocations are remembered this long past their token's expiry, for clock tolerance. */
const KEEP_PAST_EXPIRY_SEC = 300
const SNAPSHOT_RETRY_MS = 1000

export interface RedisRevocationsOptions {
  /** A connection of its own: once subscribed, it can do nothing else. */
  subscriber: Redis
  /** For reading the set of revocations in force. */
  redis: Redis
  /** The channel is `<keyPrefix>revocations`, the set `<keyPrefix>revoked`, as the authorization servers write them. */
  keyPrefix: string
  /** Called for every revocation, pushed or read from the set; the same one may come more than once. */
  onRevoked: (jti: string, exp: number) => void
  /** Milliseconds since the epoch. */
  now: () => number
  onError?: (err: Error) => void
}

/**
 * Revocations pushed by the authorization servers over Redis pub/sub (`{"jti","exp"}`, as their
 * SSE stream's `revoked` events). On each (re)connection it subscribes first and then reads the
 * set of revocations in force, so that nothing revoked while it was away is missed. What it has
 * heard is kept (until the tokens expire), for a verifier built later by a reload.
 *
 * @example
 * const revocations = new RedisRevocations({ subscriber, redis, keyPrefix: 'meshguard:', onRevoked: (jti, exp) => verifier.revoke(jti, exp), now: Date.now })
 */
export class RedisRevocations {
  readonly #options: RedisRevocationsOptions
  readonly #channel: string
  readonly #set: string
  readonly #known = new Map<string, number>()
  #snapshotDue = false
  #retry: NodeJS.Timeout | undefined
  #purgedAt = 0

  constructor(options: RedisRevocationsOptions) {
    this.#options = options
    this.#channel = `${options.keyPrefix}revocations`
    this.#set = `${options.keyPrefix}revoked`
    options.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) this.#onMessage(message)
    })
    options.subscriber.on('ready', () => {
      void this.#subscribe()
    })
    options.redis.on('ready', () => {
      void this.#snapshot()
    })
    // Connections that were ready before this was made get no 'ready' event of their own.
    if (options.subscriber.status === 'ready') void this.#subscribe()
  }

  /** Calls `revoke` with every revocation heard whose token has not expired, for a new verifier. */
  replay(revoke: (jti: string, exp: number) => void): void {
    for (const [jti, exp] of this.#known) revoke(jti, exp)
  }

  /** How many revocations are remembered; for tests. */
  get size(): number {
    return this.#known.size
  }

  close(): void {
    clearTimeout(this.#retry)
    this.#snapshotDue = false
  }

  async #subscribe(): Promise<void> {
    try {
      await this.#options.subscriber.subscribe(this.#channel)
      this.#snapshotDue = true
      await this.#snapshot()
    } catch (err) {
      this.#options.onError?.(asError(err))
    }
  }

  /** Reads the set, if a (re)subscription asked for it and Redis can be asked; retried until it succeeds. */
  async #snapshot(): Promise<void> {
    if (!this.#snapshotDue || this.#options.redis.status !== 'ready') return
    clearTimeout(this.#retry)
    try {
      const since = Math.floor(this.#options.now() / 1000) - KEEP_PAST_EXPIRY_SEC
      const flat = await this.#options.redis.zrangebyscore(this.#set, since, '+inf', 'WITHSCORES')
      this.#snapshotDue = false
      for (let i = 0; i + 1 < flat.length; i += 2) this.#revoked(flat[i]!, Number(flat[i + 1]))
    } catch (err) {
      this.#options.onError?.(asError(err))
      this.#retry = setTimeout(() => void this.#snapshot(), SNAPSHOT_RETRY_MS)
      this.#retry.unref()
    }
  }

  #onMessage(message: string): void {
    let event: unknown
    try {
      event = JSON.parse(message)
    } catch {
      return
    }
    const { jti, exp } = (typeof event === 'object' && event !== null ? event : {}) as { jti?: unknown; exp?: unknown }
    if (typeof jti === 'string' && jti !== '' && jti.length <= 256 && typeof exp === 'number' && Number.isFinite(exp)) this.#revoked(jti, exp)
  }

  #revoked(jti: string, exp: number): void {
    this.#known.set(jti, exp)
    this.#options.onRevoked(jti, exp)
    const now = this.#options.now()
    if (now - this.#purgedAt < 60_000) return
    this.#purgedAt = now
    const cutoff = Math.floor(now / 1000) - KEEP_PAST_EXPIRY_SEC
    for (const [id, expiresAt] of this.#known) if (expiresAt < cutoff) this.#known.delete(id)
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
