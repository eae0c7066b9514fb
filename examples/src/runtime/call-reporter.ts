import { request, type Dispatcher } from 'undici'

/** One call a service allowed or refused, as the authorization server's `POST /audit/events` takes it. */
export interface CallEvent {
  /** Milliseconds since the epoch. */
  ts: number
  decision: 'allow' | 'deny'
  /** The reporting service. */
  service: string
  /** The client that made the call, or null when no token identified one. */
  caller: string | null
  subject: string | null
  /** The caller's delegation chain, outermost (most recent) actor first; null for a direct call. */
  act: string[] | null
  method: string
  /** Without the query. */
  path: string
  /** The service kit's error code, for denials. */
  reason?: string | undefined
}

/** The part of a pino logger the reporter writes to. */
export interface DebugLogger {
  debug(details: Record<string, unknown>, message: string): void
}

export interface CallReporterOptions {
  /** The reporting service: also the client it authenticates as. */
  service: string
  /** Where to POST; unset, nothing is reported. */
  auditUri: string | undefined
  /** `client_secret_basic`; without it, `tls_client_auth` (RFC 8705 §2): `client_id` in the body, over `dispatcher`'s certificate. */
  clientSecret?: string | undefined
  /** The undici dispatcher: the mutual-TLS agent on the high tier. */
  dispatcher?: Dispatcher | undefined
  log: DebugLogger
  /** Default 500. */
  flushIntervalMs?: number | undefined
  /** Events per request, at most 500 (the endpoint's limit); default 500. */
  maxBatch?: number | undefined
  /** Events kept while the endpoint is slow; newer ones are dropped beyond it. Default 10,000. */
  maxQueued?: number | undefined
  /** Per request; default 2,000. */
  timeoutMs?: number | undefined
}

const MAX_BATCH = 500

/**
 * Reports a service's allowed and refused calls to the authorization server, for the console's
 * live map: queued, then sent in batches of at most 500 about every half second, one request at a
 * time, authenticated as the service's own client. Reporting never blocks or fails a call: with no
 * `auditUri`, or when the endpoint fails, events are dropped with a debug line.
 *
 * @example
 * const reporter = new CallReporter({ service: 'api-a', auditUri, clientSecret, log })
 * reporter.report({ ts: Date.now(), decision: 'deny', service: 'api-a', caller: null, subject: null, act: null, method: 'GET', path: '/summary', reason: 'ERR_TOKEN_MISSING' })
 * await reporter.close() // sends what is queued
 */
export class CallReporter {
  readonly #options: CallReporterOptions
  readonly #url: URL | undefined
  readonly #authorization: string | undefined
  readonly #maxBatch: number
  readonly #maxQueued: number
  readonly #timeoutMs: number
  readonly #timer: NodeJS.Timeout | undefined
  #queue: CallEvent[] = []
  #sending: Promise<void> | undefined
  #dropped = 0

  /** @throws TypeError for an `auditUri` that is not an http(s) URL, or a batch size out of range. */
  constructor(options: CallReporterOptions) {
    this.#options = options
    this.#maxBatch = options.maxBatch ?? MAX_BATCH
    if (!Number.isInteger(this.#maxBatch) || this.#maxBatch < 1 || this.#maxBatch > MAX_BATCH) throw new TypeError(`maxBatch must be an integer from 1 to ${MAX_BATCH}`)
    this.#maxQueued = options.maxQueued ?? 10_000
    this.#timeoutMs = options.timeoutMs ?? 2_000
    if (options.auditUri === undefined) {
      options.log.debug({ service: options.service }, 'call reports are off: no auditUri')
      return
    }
    this.#url = new URL(options.auditUri)
    if (this.#url.protocol !== 'https:' && this.#url.protocol !== 'http:') throw new TypeError('auditUri must be an http(s) URL')
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined.
    this.#authorization =
      options.clientSecret === undefined ? undefined : `Basic ${Buffer.from(`${formEncode(options.service)}:${formEncode(options.clientSecret)}`).toString('base64')}`
    this.#timer = setInterval(() => {
      if (this.#sending === undefined) void this.flush()
    }, options.flushIntervalMs ?? 500)
    this.#timer.unref()
  }

  /** Queues one event; returns at once. */
  report(event: CallEvent): void {
    if (this.#url === undefined) return
    if (this.#queue.length >= this.#maxQueued) {
      this.#dropped += 1
      return
    }
    this.#queue.push(event)
    if (this.#queue.length >= this.#maxBatch && this.#sending === undefined) void this.flush()
  }

  /** Sends everything queued so far, in batches; resolves when done, never rejects. */
  async flush(): Promise<void> {
    while (this.#sending !== undefined) await this.#sending
    if (this.#queue.length === 0) return
    this.#sending = this.#sendAll().finally(() => {
      this.#sending = undefined
    })
    await this.#sending
  }

  /** Stops the timer and sends what is queued. */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }

  async #sendAll(): Promise<void> {
    if (this.#dropped > 0) {
      this.#options.log.debug({ service: this.#options.service, dropped: this.#dropped }, 'call reports dropped: too many waiting')
      this.#dropped = 0
    }
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch)
      await this.#send(batch)
    }
  }

  async #send(events: CallEvent[]): Promise<void> {
    const { service, log, dispatcher } = this.#options
    const body = this.#authorization === undefined ? { client_id: service, events } : { events }
    try {
      const response = await request(this.#url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.#authorization !== undefined && { authorization: this.#authorization }) },
        body: JSON.stringify(body),
        dispatcher,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      const answer = await response.body.text()
      if (response.statusCode >= 300) log.debug({ service, status: response.statusCode, answer: answer.slice(0, 500), dropped: events.length }, 'call reports refused')
    } catch (err) {
      log.debug({ service, err: err instanceof Error ? err.message : String(err), dropped: events.length }, 'call reports not delivered')
    }
  }
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}
