import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { isSigningAlgorithm, keyMatchesAlgorithm, signingAlgorithms, type SigningAlgorithm, type VerificationKey } from '@meshguard/token'
import { request } from 'undici'

/** How a {@link JwksCache} fetches, keeps and refreshes an issuer's keys. */
export interface JwksCacheOptions {
  /** Keys are only ever taken from here, never from a token's `jku`, `x5u`, `jwk` or `x5c`. */
  jwksUri: URL
  /** Keys for other algorithms are skipped. Default: ES256, RS256 and EdDSA. */
  algorithms?: readonly SigningAlgorithm[] | undefined
  /** Background refresh; default 300,000 (5 min). */
  refreshIntervalMs?: number | undefined
  /** At most one refetch for unknown `kid`s per this window; default 30,000. */
  unknownKidCooldownMs?: number | undefined
  /** Per fetch, headers and body together; default 5,000. */
  timeoutMs?: number | undefined
  /** The last good key set is used this long after the last successful fetch; default 3,600,000. */
  maxStaleMs?: number | undefined
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  now?: (() => number) | undefined
  /** Fetch and parse failures, and keys skipped; never thrown from lookups. */
  onError?: ((err: Error) => void) | undefined
}

/** Fetch counters, for tests and metrics. */
export interface JwksCacheStats {
  readonly fetches: number
  readonly failures: number
  /** When the key set in use was fetched (by `now`), if ever. */
  readonly lastSuccessAt: number | undefined
}

const MAX_BODY_BYTES = 512 * 1024
/** RFC 7518 §6.2.2, §6.3.2 and §6.4.1: members only a private or secret key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']
/** Node's timers overflow past this and fire after 1 ms instead: a refresh storm. */
const MAX_TIMER_MS = 2 ** 31 - 1

interface KeySet {
  readonly keys: ReadonlyMap<string, VerificationKey>
  readonly fetchedAt: number
}

/**
 * An issuer's public keys, fetched from its `jwks_uri` and kept fresh. It keeps serving the last
 * good set while the endpoint is down or slow (up to `maxStaleMs`, then fails closed and recovers
 * by itself), and an unknown `kid` causes at most one shared refetch per cooldown, however many
 * requests carry made-up `kid`s.
 *
 * @example
 * ```ts
 * const jwks = new JwksCache({ jwksUri: new URL('https://auth.internal/.well-known/jwks.json'), onError: (err) => log.warn(err) })
 * await jwks.start()
 * const key = await jwks.getKey(kid)
 * ```
 */
export class JwksCache {
  readonly #jwksUri: URL
  readonly #algorithms: readonly SigningAlgorithm[]
  readonly #refreshIntervalMs: number
  readonly #unknownKidCooldownMs: number
  readonly #timeoutMs: number
  readonly #maxStaleMs: number
  readonly #now: () => number
  readonly #onError: ((err: Error) => void) | undefined
  #set: KeySet | undefined
  #inflight: Promise<void> | undefined
  #lastUnknownKidFetch = Number.NEGATIVE_INFINITY
  #timer: NodeJS.Timeout | undefined
  /** Bumped by start and close, so a start that close overtook arms no timer. */
  #generation = 0
  #fetches = 0
  #failures = 0

  /** @throws TypeError naming the option that is not acceptable. */
  constructor(options: JwksCacheOptions) {
    const { jwksUri, now, onError } = options
    if (!(jwksUri instanceof URL) || !['http:', 'https:'].includes(jwksUri.protocol)) {
      throw new TypeError('jwksUri must be an http(s) URL object')
    }
    const algorithms = options.algorithms ?? signingAlgorithms
    if (!Array.isArray(algorithms) || algorithms.length === 0 || !algorithms.every(isSigningAlgorithm)) {
      throw new TypeError(`algorithms must be a non-empty list drawn from ${signingAlgorithms.join(', ')}`)
    }
    if (now !== undefined && typeof now !== 'function') throw new TypeError('now must be a function')
    if (onError !== undefined && typeof onError !== 'function') throw new TypeError('onError must be a function')
    this.#jwksUri = new URL(jwksUri.href)
    this.#algorithms = [...algorithms]
    this.#refreshIntervalMs = positive('refreshIntervalMs', options.refreshIntervalMs, 300_000, MAX_TIMER_MS)
    this.#unknownKidCooldownMs = positive('unknownKidCooldownMs', options.unknownKidCooldownMs, 30_000)
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs, 5_000, MAX_TIMER_MS)
    this.#maxStaleMs = positive('maxStaleMs', options.maxStaleMs, 3_600_000)
    this.#now = now ?? Date.now
    this.#onError = onError
  }

  /** Fetches once, rejecting if that fails (call it at start-up to fail fast), then refreshes in the background. */
  async start(): Promise<void> {
    const generation = ++this.#generation
    await this.refresh()
    if (generation !== this.#generation) return
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = setInterval(() => {
      this.refresh().catch(() => undefined)
    }, this.#refreshIntervalMs)
    this.#timer.unref()
  }

  /** Whether a key set is held that is not past `maxStaleMs`. */
  get ready(): boolean {
    return this.#set !== undefined && this.#now() - this.#set.fetchedAt <= this.#maxStaleMs
  }

  /** The key published under `kid`; `undefined` if there is none or the key set is stale (fail closed). */
  keyFor(kid: string): VerificationKey | undefined {
    return this.ready ? this.#set?.keys.get(kid) : undefined
  }

  /**
   * {@link JwksCache.keyFor}, and for an unknown `kid` one refetch shared by all concurrent callers,
   * unless an unknown `kid` already caused one within `unknownKidCooldownMs`; then looks again.
   */
  async getKey(kid: string): Promise<VerificationKey | undefined> {
    const known = this.keyFor(kid)
    if (known !== undefined) return known
    if (this.#inflight === undefined) {
      const now = this.#now()
      if (now - this.#lastUnknownKidFetch < this.#unknownKidCooldownMs) return undefined
      this.#lastUnknownKidFetch = now
    }
    await this.refresh().catch(() => undefined)
    return this.keyFor(kid)
  }

  /** Fetches now; concurrent callers share one request. On failure the old set stays, and the error is reported and rethrown. */
  refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight
  }

  /** Stops the background refresh. Idempotent. */
  close(): void {
    this.#generation += 1
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Fetch counters, for tests and metrics. */
  get stats(): JwksCacheStats {
    return { fetches: this.#fetches, failures: this.#failures, lastSuccessAt: this.#set?.fetchedAt }
  }

  async #fetch(): Promise<void> {
    this.#fetches += 1
    try {
      const keys = this.#parse(await this.#download())
      if (keys.size === 0) throw new Error(`${this.#jwksUri.href} has no usable signing key`)
      this.#set = { keys, fetchedAt: this.#now() }
    } catch (err) {
      this.#failures += 1
      const error = err instanceof Error ? err : new Error(String(err))
      this.#report(error)
      throw error
    }
  }

  async #download(): Promise<unknown> {
    const href = this.#jwksUri.href
    const response = await request(this.#jwksUri, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
      signal: AbortSignal.timeout(this.#timeoutMs),
    })
    if (response.statusCode !== 200) {
      await response.body.dump().catch(() => undefined)
      throw new Error(`${href} answered ${response.statusCode}`)
    }
    let size = 0
    const chunks: Buffer[] = []
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        response.body.destroy()
        throw new Error(`${href} sent more than ${MAX_BODY_BYTES} bytes`)
      }
      chunks.push(chunk)
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      throw new Error(`${href} did not send JSON`)
    }
  }

  /** RFC 7517 §5: a JWK Set is an object whose `keys` member is an array of JWKs. */
  #parse(document: unknown): Map<string, VerificationKey> {
    const list = typeof document === 'object' && document !== null ? (document as { keys?: unknown }).keys : undefined
    if (!Array.isArray(list)) throw new Error(`${this.#jwksUri.href} is not a JWK set: no "keys" array`)
    const keys = new Map<string, VerificationKey>()
    const skipped: string[] = []
    for (const entry of list as unknown[]) {
      const key = this.#importKey(entry)
      if (typeof key === 'string') skipped.push(key)
      else if (keys.has(key.kid)) skipped.push(`${key.kid}: duplicate kid, the first is kept`)
      else keys.set(key.kid, key.key)
    }
    if (skipped.length > 0) this.#report(new Error(`skipped JWKS keys: ${skipped.join('; ')}`))
    return keys
  }

  /** A usable public signing key, or why not. */
  #importKey(entry: unknown): { kid: string; key: VerificationKey } | string {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'an entry that is not an object'
    const jwk = entry as Record<string, unknown>
    const kid = jwk.kid
    if (typeof kid !== 'string' || kid === '') return 'a key without a kid'
    if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member)) || jwk.kty === 'oct') return `${kid}: not a public key`
    // RFC 7517 §4.2 and §4.3: a key published for other uses is not a signature key.
    if (jwk.use !== undefined && jwk.use !== 'sig') return `${kid}: use is not sig`
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return `${kid}: key_ops lacks verify`
    const alg = jwk.alg !== undefined ? jwk.alg : inferAlgorithm(jwk)
    if (!isSigningAlgorithm(alg) || !this.#algorithms.includes(alg)) {
      return `${kid}: algorithm ${alg === undefined ? 'cannot be inferred and' : JSON.stringify(alg)} is not allowed`
    }
    let publicKey: KeyObject
    try {
      publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
    } catch {
      return `${kid}: not a valid key`
    }
    if (!keyMatchesAlgorithm(alg, publicKey)) return `${kid}: does not fit ${alg} (RSA keys need 2048 bits)`
    const held = this.#set?.keys.get(kid)
    return { kid, key: held?.alg === alg && held.publicKey.equals(publicKey) ? held : { alg, publicKey } }
  }

  /** A throwing logger must not turn a good fetch into a failure, nor escape a lookup. */
  #report(error: Error): void {
    try {
      this.#onError?.(error)
    } catch {
      // ignored: reporting is best effort
    }
  }
}

/** RFC 7518 §6 key types and curves, for a JWK that does not name its `alg`. */
function inferAlgorithm(jwk: Record<string, unknown>): SigningAlgorithm | undefined {
  if (jwk.kty === 'RSA') return 'RS256'
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256'
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA'
  return undefined
}

function positive(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = value ?? fallback
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > max) throw new TypeError(`${name} must be a positive number of milliseconds, at most ${max}`)
  return n
}
