import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { isSigningAlgorithm, keyMatchesAlgorithm, signingAlgorithms, type SigningAlgorithm, type VerificationKey } from '@meshguard/token'
import { request } from 'undici'

export interface JwksCacheOptions {
  /** Keys are only ever taken from here, never from a token's `jku`, `x5u`, `jwk` or `x5c`. */
  jwksUri: URL
  /** Default: ES256, RS256 and EdDSA. */
  algorithms?: readonly SigningAlgorithm[]
  /** Background refresh; default 300,000 (5 min). */
  refreshIntervalMs?: number
  /** At most one refetch for unknown `kid`s per this window; default 30,000. */
  unknownKidCooldownMs?: number
  /** Per fetch; default 5,000. */
  timeoutMs?: number
  /** The last good key set is used this long after the last successful fetch; default 3,600,000. */
  maxStaleMs?: number
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number
  /** Fetch and parse failures, and keys skipped; never thrown from lookups. */
  onError?: ((err: Error) => void) | undefined
}

const MAX_BODY_BYTES = 512 * 1024
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']
const INFERRED_ALG: Record<string, SigningAlgorithm | undefined> = { 'EC P-256': 'ES256', 'OKP Ed25519': 'EdDSA', RSA: 'RS256' }

interface KeySet {
  keys: Map<string, VerificationKey>
  fetchedAt: number
}

/**
 * An issuer's public keys, fetched from its `jwks_uri` and kept fresh. It keeps serving the last
 * good set while the endpoint is down or slow (up to `maxStaleMs`, then fails closed and recovers
 * by itself), and an unknown `kid` causes at most one shared refetch per cooldown, however many
 * requests carry made-up `kid`s.
 */
export class JwksCache {
  readonly #options: Required<Omit<JwksCacheOptions, 'onError'>> & Pick<JwksCacheOptions, 'onError'>
  #set: KeySet | undefined
  #inflight: Promise<void> | undefined
  #lastUnknownKidFetch = Number.NEGATIVE_INFINITY
  #timer: NodeJS.Timeout | undefined
  #fetches = 0
  #failures = 0

  constructor(options: JwksCacheOptions) {
    if (!(options.jwksUri instanceof URL) || !['http:', 'https:'].includes(options.jwksUri.protocol)) {
      throw new TypeError('jwksUri must be an http(s) URL object')
    }
    const algorithms = options.algorithms ?? signingAlgorithms
    if (algorithms.length === 0 || !algorithms.every(isSigningAlgorithm)) throw new TypeError(`algorithms must be drawn from ${signingAlgorithms.join(', ')}`)
    const positive = (name: keyof JwksCacheOptions, value: number | undefined, fallback: number) => {
      const n = value ?? fallback
      if (!Number.isFinite(n) || n <= 0) throw new TypeError(`${name} must be a positive number of milliseconds`)
      return n
    }
    this.#options = {
      jwksUri: options.jwksUri,
      algorithms,
      refreshIntervalMs: positive('refreshIntervalMs', options.refreshIntervalMs, 300_000),
      unknownKidCooldownMs: positive('unknownKidCooldownMs', options.unknownKidCooldownMs, 30_000),
      timeoutMs: positive('timeoutMs', options.timeoutMs, 5_000),
      maxStaleMs: positive('maxStaleMs', options.maxStaleMs, 3_600_000),
      now: options.now ?? Date.now,
      onError: options.onError,
    }
  }

  /** Fetches once, rejecting if that fails, then refreshes in the background. */
  async start(): Promise<void> {
    await this.refresh()
    this.close()
    this.#timer = setInterval(() => {
      this.refresh().catch(() => undefined)
    }, this.#options.refreshIntervalMs)
    this.#timer.unref()
  }

  /** Whether a key set is held that is not past `maxStaleMs`. */
  get ready(): boolean {
    return this.#set !== undefined && this.#options.now() - this.#set.fetchedAt <= this.#options.maxStaleMs
  }

  keyFor(kid: string): VerificationKey | undefined {
    return this.ready ? this.#set?.keys.get(kid) : undefined
  }

  /** {@link keyFor}, refetching once for an unknown `kid` unless a refetch happened within the cooldown. */
  async getKey(kid: string): Promise<VerificationKey | undefined> {
    const known = this.keyFor(kid)
    if (known !== undefined) return known
    const now = this.#options.now()
    if (this.#inflight === undefined && now - this.#lastUnknownKidFetch < this.#options.unknownKidCooldownMs) return undefined
    if (this.#inflight === undefined) this.#lastUnknownKidFetch = now
    await this.refresh().catch(() => undefined)
    return this.keyFor(kid)
  }

  /** Fetches now; concurrent callers share one request. On failure the old set stays and the error is rethrown. */
  refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined
    })
    return this.#inflight
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  get stats(): { fetches: number; failures: number; lastSuccessAt: number | undefined } {
    return { fetches: this.#fetches, failures: this.#failures, lastSuccessAt: this.#set?.fetchedAt }
  }

  async #fetch(): Promise<void> {
    this.#fetches += 1
    try {
      const document = await this.#download()
      const keys = this.#parse(document)
      if (keys.size === 0) throw new Error(`${this.#options.jwksUri.href} has no usable signing key`)
      this.#set = { keys, fetchedAt: this.#options.now() }
    } catch (err) {
      this.#failures += 1
      const error = err instanceof Error ? err : new Error(String(err))
      this.#options.onError?.(error)
      throw error
    }
  }

  async #download(): Promise<unknown> {
    const { jwksUri, timeoutMs } = this.#options
    const response = await request(jwksUri, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (response.statusCode !== 200) {
      await response.body.dump()
      throw new Error(`${jwksUri.href} answered ${response.statusCode}`)
    }
    let size = 0
    const chunks: Buffer[] = []
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        response.body.destroy()
        throw new Error(`${jwksUri.href} sent more than ${MAX_BODY_BYTES} bytes`)
      }
      chunks.push(chunk)
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      throw new Error(`${jwksUri.href} did not send JSON`)
    }
  }

  #parse(document: unknown): Map<string, VerificationKey> {
    const list = (document as { keys?: unknown } | null)?.keys
    if (!Array.isArray(list)) throw new Error(`${this.#options.jwksUri.href} is not a JWK set: no "keys" array`)
    const keys = new Map<string, VerificationKey>()
    const skipped: string[] = []
    for (const entry of list as unknown[]) {
      const key = this.#importKey(entry)
      if (typeof key === 'string') skipped.push(key)
      else keys.set(key.kid, key.key)
    }
    if (skipped.length > 0) this.#options.onError?.(new Error(`skipped JWKS keys: ${skipped.join('; ')}`))
    return keys
  }

  /** A usable public signing key, or why not. */
  #importKey(entry: unknown): { kid: string; key: VerificationKey } | string {
    if (typeof entry !== 'object' || entry === null) return 'an entry that is not an object'
    const jwk = entry as JsonWebKey & { kid?: unknown; alg?: unknown; use?: unknown }
    const kid = jwk.kid
    if (typeof kid !== 'string' || kid === '') return 'a key without a kid'
    if (PRIVATE_MEMBERS.some((member) => member in jwk) || jwk.kty === 'oct') return `${kid}: not a public key`
    if (jwk.use !== undefined && jwk.use !== 'sig') return `${kid}: use is not sig`
    const alg = jwk.alg ?? INFERRED_ALG[jwk.kty === 'RSA' ? 'RSA' : `${String(jwk.kty)} ${String(jwk.crv)}`]
    if (!isSigningAlgorithm(alg) || !this.#options.algorithms.includes(alg)) return `${kid}: algorithm ${JSON.stringify(alg)} is not allowed`
    let publicKey: KeyObject
    try {
      publicKey = createPublicKey({ key: jwk, format: 'jwk' })
    } catch {
      return `${kid}: not a valid key`
    }
    const reused = this.#set?.keys.get(kid)
    if (reused?.alg === alg && reused.publicKey.equals(publicKey)) return { kid, key: reused }
    if (!keyMatchesAlgorithm(alg, publicKey)) return `${kid}: does not fit ${alg} (RSA keys need 2048 bits)`
    return { kid, key: { alg, publicKey } }
  }
}
