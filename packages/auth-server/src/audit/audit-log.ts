import type { Logger } from 'pino'
import type { AuditEvent, Store } from '../store/store.js'

export interface AuditLogOptions {
  store: Store
  logger: Logger
  /** Events are written in batches, at least this often (default 100 ms). */
  flushIntervalMs?: number
  /**
   * A batch is written once this many events wait (default 100). SQLite writes block the event
   * loop, so the batch bounds the stall every request in flight sees (about 1 ms at 100).
   */
  maxBatch?: number
}

/**
 * Every issuance, refusal, introspection and revocation: logged at once as a structured line,
 * and kept in the store in batches so the token endpoint never waits on an audit write.
 */
export class AuditLog {
  readonly #store: Store
  readonly #logger: Logger
  readonly #maxBatch: number
  readonly #timer: NodeJS.Timeout
  #pending: AuditEvent[] = []
  #flushing: Promise<void> = Promise.resolve()
  readonly #listeners = new Set<(event: AuditEvent) => void>()

  constructor(options: AuditLogOptions) {
    this.#store = options.store
    this.#logger = options.logger.child({ component: 'audit' })
    this.#maxBatch = options.maxBatch ?? 100
    this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 100)
    this.#timer.unref()
  }

  record(event: AuditEvent): void {
    this.#logger.info({ audit: event }, event.type)
    this.#pending.push(event)
    if (this.#pending.length >= this.#maxBatch) void this.flush()
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (err) {
        this.#logger.error({ err }, 'an audit listener failed')
      }
    }
  }

  /**
   * Calls `listener` with each event recorded from now on, by this instance, synchronously: a
   * listener must not block, and one that throws is logged and kept. Any number may subscribe.
   *
   * @returns a function that removes the listener.
   * @example
   * ```ts
   * const unsubscribe = audit.onRecord((event) => stream.push(event))
   * ```
   */
  onRecord(listener: (event: AuditEvent) => void): () => void {
    const subscription = (event: AuditEvent) => {
      listener(event)
    }
    this.#listeners.add(subscription)
    return () => {
      this.#listeners.delete(subscription)
    }
  }

  /** Writes what is pending; resolves when it is in the store. A failed write is logged and retried. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.length === 0) return
      const batch = this.#pending
      this.#pending = []
      try {
        await this.#store.appendAudit(batch)
      } catch (err) {
        this.#logger.error({ err, events: batch.length }, 'could not store audit events; will retry')
        this.#pending = batch.concat(this.#pending)
      }
    })
    return this.#flushing
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }
}
