import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'

export interface RevocationEventsOptions {
  /** The issuer's `revocation_events_endpoint`. */
  url: URL
  onRevoked(jti: string, exp: number): void
  /** The issuer's published keys changed: refetch the JWKS. Also called after each reconnection. */
  onKeysChanged(): void
  onError?: ((err: Error) => void) | undefined
  /** First wait before reconnecting, doubling up to `maxReconnectDelayMs`; default 1,000. */
  reconnectDelayMs?: number
  maxReconnectDelayMs?: number
  /** A stream silent for this long (the server sends a heartbeat every 15 s) is dropped; default 45,000. */
  idleTimeoutMs?: number
}

/**
 * Follows the issuer's revocation events (Server-Sent Events) and reconnects by itself. Every
 * connection starts with a snapshot of the revocations still in force, so nothing revoked while
 * disconnected is missed.
 */
export class RevocationEvents {
  readonly #options: Required<Omit<RevocationEventsOptions, 'onError'>> & Pick<RevocationEventsOptions, 'onError'>
  #closed = false
  #connected = false
  #connections = 0
  #abort: AbortController | undefined
  #firstReady: { promise: Promise<void>; resolve: () => void }

  constructor(options: RevocationEventsOptions) {
    this.#options = { reconnectDelayMs: 1_000, maxReconnectDelayMs: 30_000, idleTimeoutMs: 45_000, ...options }
    let resolve!: () => void
    const promise = new Promise<void>((done) => {
      resolve = done
    })
    this.#firstReady = { promise, resolve }
  }

  /** Connects and keeps connecting; resolves once the first snapshot is in, rejects after `timeoutMs` without one. */
  async start(timeoutMs = 5_000): Promise<void> {
    void this.#run()
    const timeout = sleep(timeoutMs, 'timeout', { ref: false })
    if ((await Promise.race([this.#firstReady.promise, timeout])) === 'timeout') {
      throw new Error(`no revocation snapshot from ${this.#options.url.href} within ${timeoutMs} ms`)
    }
  }

  /** Whether the stream is up and its snapshot has been received. */
  get connected(): boolean {
    return this.#connected
  }

  close(): void {
    this.#closed = true
    this.#abort?.abort()
  }

  /** Read through a method: `close()` changes it while `#run` awaits. */
  #isClosed(): boolean {
    return this.#closed
  }

  async #run(): Promise<void> {
    let delay = this.#options.reconnectDelayMs
    while (!this.#isClosed()) {
      try {
        await this.#follow(() => {
          delay = this.#options.reconnectDelayMs
        })
      } catch (err) {
        if (!this.#isClosed()) this.#options.onError?.(err instanceof Error ? err : new Error(String(err)))
      }
      this.#connected = false
      if (this.#isClosed()) return
      await sleep(delay, undefined, { ref: false })
      delay = Math.min(delay * 2, this.#options.maxReconnectDelayMs)
    }
  }

  /** One connection, until the stream ends or fails. */
  async #follow(onReady: () => void): Promise<void> {
    const abort = new AbortController()
    this.#abort = abort
    const response = await request(this.#options.url, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
      signal: abort.signal,
      headersTimeout: 10_000,
      bodyTimeout: this.#options.idleTimeoutMs,
    })
    if (response.statusCode !== 200) {
      await response.body.dump()
      throw new Error(`${this.#options.url.href} answered ${response.statusCode}`)
    }
    let buffer = ''
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      buffer += chunk.toString('utf8')
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        this.#dispatch(buffer.slice(0, end), onReady)
        buffer = buffer.slice(end + 2)
      }
    }
  }

  #dispatch(block: string, onReady: () => void): void {
    let event = 'message'
    let data = ''
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data += line.slice(5).trim()
    }
    if (event === 'revoked') {
      const { jti, exp } = JSON.parse(data) as { jti?: unknown; exp?: unknown }
      if (typeof jti === 'string' && typeof exp === 'number') this.#options.onRevoked(jti, exp)
    } else if (event === 'keys') {
      this.#options.onKeysChanged()
    } else if (event === 'ready') {
      this.#connected = true
      this.#connections += 1
      // After a reconnection, keys may have changed while the stream was down.
      if (this.#connections > 1) this.#options.onKeysChanged()
      onReady()
      this.#firstReady.resolve()
    }
  }
}
