import { X509Certificate } from 'node:crypto'
import { newWorkloadKey, subjectAltNames } from '@meshguard/pki'
import type { WarnLogger } from './peer-refusal.js'
import type { WorkloadIdentity } from './workload-identity.js'

/** Time and timers, injectable so tests move them instead of sleeping. */
export interface RotationClock {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface RotationAgentOptions {
  identity: WorkloadIdentity
  /** Sends a PEM CSR to the CA (its renewal endpoint, authenticated by the current certificate) and resolves to the new chain PEM. */
  renew: (csrPem: string) => Promise<string>
  /** How far into a certificate's lifetime to renew it; default 0.6. */
  renewAtFraction?: number | undefined
  /** The first retry after a failed renewal; doubled on each failure; default 1,000 ms. */
  retryInitialDelayMs?: number | undefined
  /** The longest wait between retries; default 60,000 ms. */
  retryMaxDelayMs?: number | undefined
  /** DNS names to ask for beside the SPIFFE ID; default those of the current certificate. */
  dnsNames?: readonly string[] | undefined
  /** A failed renewal: the current certificate stays in use, and the next attempt is in `retryInMs`. */
  onError?: ((err: Error, retry: { attempt: number; retryInMs: number }) => void) | undefined
  /** Gets a `warn` line per failed renewal. */
  log?: WarnLogger | undefined
  /** Each renewal that took effect, with the new certificate's serial number. */
  onRenewed?: ((serialNumber: string) => void) | undefined
  clock?: RotationClock | undefined
}

/** Node's timers overflow past this and fire at once; a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

const systemClock: RotationClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout)
  },
}

/**
 * Renews the workload's certificate before it runs out and swaps it in place: a new P-256 key
 * and CSR each time (the key never leaves the process), renewal at {@link
 * RotationAgentOptions.renewAtFraction} of the lifetime, `identity.update` on success (servers and
 * clients built from the identity take it for their next handshakes). When the CA cannot be
 * reached, the current certificate stays in use, the failure is reported, and renewal is retried
 * with exponential backoff.
 *
 * A certificate's lifetime is counted from when this agent first saw it, if later than its
 * `notBefore`: CAs backdate `notBefore` for clock skew, which would otherwise make a
 * certificate of a few seconds look mostly spent on arrival.
 *
 * @throws TypeError at construction for a bad option, or neither `onError` nor `log`.
 * @example
 * const agent = new RotationAgent({ identity, renew: (csr) => ca.renew(csr), log }).start()
 * // on shutdown: agent.stop()
 */
export class RotationAgent {
  readonly #identity: WorkloadIdentity
  readonly #renew: (csrPem: string) => Promise<string>
  readonly #fraction: number
  readonly #retryInitialDelayMs: number
  readonly #retryMaxDelayMs: number
  readonly #dnsNames: readonly string[] | undefined
  readonly #report: (err: Error, retry: { attempt: number; retryInMs: number }) => void
  readonly #onRenewed: ((serialNumber: string) => void) | undefined
  readonly #clock: RotationClock
  #timer: unknown
  #running = false
  /** Bumped by stop(), so that an attempt still in flight leaves the identity alone. */
  #stops = 0
  #failures = 0
  #inFlight: Promise<boolean> | undefined
  #stopUpdates: (() => void) | undefined
  /** The certificate being timed and when this agent first saw it. */
  #seen = { serialNumber: '', at: 0 }
  #nextAttemptAt: number | undefined

  constructor(options: RotationAgentOptions) {
    const { renewAtFraction = 0.6, retryInitialDelayMs = 1_000, retryMaxDelayMs = 60_000, onError, log } = options
    if (typeof options.renew !== 'function') throw new TypeError('renew must be a function')
    if (!(renewAtFraction > 0 && renewAtFraction < 1)) throw new TypeError('renewAtFraction must be between 0 and 1')
    if (!(Number.isFinite(retryInitialDelayMs) && retryInitialDelayMs > 0)) throw new TypeError('retryInitialDelayMs must be a positive number')
    if (!(Number.isFinite(retryMaxDelayMs) && retryMaxDelayMs >= retryInitialDelayMs)) throw new TypeError('retryMaxDelayMs must be at least retryInitialDelayMs')
    if (onError === undefined && log === undefined) throw new TypeError('pass onError or log: a failed renewal must be seen before the certificate runs out')
    this.#identity = options.identity
    this.#renew = options.renew
    this.#fraction = renewAtFraction
    this.#retryInitialDelayMs = retryInitialDelayMs
    this.#retryMaxDelayMs = retryMaxDelayMs
    this.#dnsNames = options.dnsNames
    this.#onRenewed = options.onRenewed
    this.#clock = options.clock ?? systemClock
    this.#report = (err, retry) => {
      onError?.(err, retry)
      log?.warn({ err, ...retry, spiffeId: this.#identity.spiffeId.uri }, `could not renew the workload certificate; keeping the current one and retrying in ${retry.retryInMs} ms`)
    }
  }

  /** When the next renewal (or retry) is due, in milliseconds since the epoch; `undefined` when stopped. */
  get nextAttemptAt(): number | undefined {
    return this.#nextAttemptAt
  }

  /** Schedules renewals of the identity's certificate, including ones that arrive by other means. */
  start(): this {
    if (this.#running) return this
    this.#running = true
    this.#stopUpdates = this.#identity.onUpdate(() => {
      this.#schedule()
    })
    this.#schedule()
    return this
  }

  stop(): void {
    this.#running = false
    this.#stops += 1
    this.#stopUpdates?.()
    this.#clock.clearTimeout(this.#timer)
    this.#nextAttemptAt = undefined
  }

  /**
   * Renews now (sharing an attempt in progress), started or not; resolves to whether it worked.
   * A failure is reported, and retried when the agent is running.
   */
  renewNow(): Promise<boolean> {
    this.#inFlight ??= this.#attempt().finally(() => {
      this.#inFlight = undefined
    })
    return this.#inFlight
  }

  async #attempt(): Promise<boolean> {
    const stops = this.#stops
    try {
      const { uri } = this.#identity.spiffeId
      const { keyPem, csrPem } = await newWorkloadKey(uri, this.#dnsNames ?? subjectAltNames(this.#identity.certificate).dnsNames)
      const certificateChainPem = await this.#renew(csrPem)
      if (this.#stops !== stops) return false
      if (Date.parse(new X509Certificate(certificateChainPem).validTo) <= this.#clock.now()) {
        throw new Error('the CA answered with a certificate that has already expired')
      }
      this.#failures = 0
      // The identity checks the chain (its SPIFFE ID, the key) and tells its listeners, this agent's #schedule among them.
      this.#identity.update({ ...this.#identity.credentials, certificateChainPem, privateKeyPem: keyPem })
      this.#onRenewed?.(this.#identity.certificate.serialNumber.toLowerCase())
      return true
    } catch (err) {
      if (this.#stops !== stops) return false
      this.#failures += 1
      const retryInMs = Math.min(this.#retryMaxDelayMs, this.#retryInitialDelayMs * 2 ** (this.#failures - 1))
      if (this.#running) this.#arm(this.#clock.now() + retryInMs)
      this.#report(err instanceof Error ? err : new Error(String(err)), { attempt: this.#failures, retryInMs })
      return false
    }
  }

  #schedule(): void {
    if (!this.#running) return
    const certificate = this.#identity.certificate
    const now = this.#clock.now()
    if (certificate.serialNumber !== this.#seen.serialNumber) this.#seen = { serialNumber: certificate.serialNumber, at: now }
    const notAfter = Date.parse(certificate.validTo)
    const start = Math.max(Date.parse(certificate.validFrom), this.#seen.at)
    this.#arm(start + this.#fraction * (notAfter - start))
  }

  #arm(at: number): void {
    this.#clock.clearTimeout(this.#timer)
    this.#nextAttemptAt = at
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.#clock.now()))
    this.#timer = this.#clock.setTimeout(() => {
      if (this.#clock.now() < at) this.#arm(at)
      else void this.renewNow()
    }, delay)
  }
}
