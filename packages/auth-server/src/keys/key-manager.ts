import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import type { Logger } from 'pino'
import { epochSeconds, type Clock } from '../clock.js'
import type { AuthServerConfig } from '../config/schema.js'
import { MeshguardError } from '../errors.js'
import { open, seal } from '../crypto/key-encryption.js'
import type { SigningKeyRecord, Store } from '../store/store.js'
import { generateSigningKey } from './generate-key.js'
import { planRotation, type RotationMode, type RotationPolicy } from './plan-rotation.js'
import type { TokenSigner, VerificationKey } from '@meshguard/token'

export interface KeyManagerOptions {
  store: Store
  kek: Buffer
  signing: AuthServerConfig['signing']
  tokens: AuthServerConfig['tokens']
  clock: Clock
  logger?: Logger | undefined
}

interface KeySet {
  signer: TokenSigner | undefined
  verification: Map<string, VerificationKey>
  jwksJson: string
  records: SigningKeyRecord[]
}

/**
 * Holds the published key set and the one signing key, reloads them from the store so that
 * rotations made by another instance or the CLI take effect, and carries out scheduled rotation.
 */
export class KeyManager {
  readonly #options: KeyManagerOptions
  #keys: KeySet = { signer: undefined, verification: new Map(), jwksJson: '{"keys":[]}', records: [] }
  #timer: NodeJS.Timeout | undefined
  /** Keys generated ahead of need, so planning a rotation stays synchronous. */
  readonly #pool: SigningKeyRecord[] = []
  readonly #listeners = new Set<(kids: readonly string[]) => void>()

  constructor(options: KeyManagerOptions) {
    this.#options = options
  }

  get policy(): RotationPolicy {
    const { signing, tokens } = this.#options
    return {
      rotationIntervalSec: signing.rotationIntervalSec,
      publishAheadSec: signing.publishAheadSec,
      retainRetiredSec: tokens.maxAccessTokenTtlSec + tokens.clockToleranceSec,
    }
  }

  /** The key that signs now; throws when there is none (the server is then not ready). */
  signer(): TokenSigner {
    const signer = this.#keys.signer
    if (!signer) throw new MeshguardError('ERR_STORE_NOT_FOUND', 'no active signing key')
    return signer
  }

  hasSigner(): boolean {
    return this.#keys.signer !== undefined
  }

  /** A published key by `kid`: next, active, or retired and not yet expired. */
  verificationKey(kid: string): VerificationKey | undefined {
    return this.#keys.verification.get(kid)
  }

  /** The JWKS document, serialised once per key-set change. */
  jwksJson(): string {
    return this.#keys.jwksJson
  }

  /**
   * Called with the published `kid`s whenever they change (a key added or dropped, here or by
   * another instance). @returns a function that removes the listener.
   */
  onPublishedKeysChange(listener: (kids: readonly string[]) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  records(): readonly SigningKeyRecord[] {
    return this.#keys.records
  }

  /** Loads the key set, creating the first keys or carrying out a due rotation. */
  async init(): Promise<void> {
    await this.rotate('scheduled')
  }

  /**
   * Applies the rotation that is due (see {@link planRotation}) and reloads.
   * @returns whether anything changed.
   */
  async rotate(mode: RotationMode): Promise<boolean> {
    for (let attempt = 0; ; attempt += 1) {
      const records = await this.#options.store.listSigningKeys()
      await this.#fillPool()
      const now = epochSeconds(this.#options.clock)
      const taken: SigningKeyRecord[] = []
      const changes = planRotation(records, now, this.policy, mode, () => {
        const key = this.#pool[taken.length]!
        taken.push(key)
        return { ...key, createdAt: now }
      })
      if (!changes) {
        this.#install(records)
        return false
      }
      try {
        await this.#options.store.applyKeyChanges(changes)
        this.#pool.splice(0, taken.length)
      } catch (err) {
        // Another instance rotated at the same moment: take its result and plan again.
        if (err instanceof MeshguardError && err.code === 'ERR_STORE_CONFLICT' && attempt < 2) continue
        throw err
      }
      this.#options.logger?.info(
        { event: 'keys.rotated', mode, inserted: changes.insert?.map((k) => k.kid), deleted: changes.delete },
        'signing keys rotated',
      )
      await this.reload()
      return true
    }
  }

  async reload(): Promise<void> {
    this.#install(await this.#options.store.listSigningKeys())
  }

  /** Reloads keys every `reloadIntervalSec` and rotates when due. */
  start(): void {
    this.stop()
    this.#timer = setInterval(() => {
      this.rotate('scheduled').catch((err: unknown) => {
        this.#options.logger?.error({ err, event: 'keys.reload_failed' }, 'could not reload signing keys; keeping the current set')
      })
    }, this.#options.signing.reloadIntervalSec * 1000)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #install(records: SigningKeyRecord[]): void {
    const now = epochSeconds(this.#options.clock)
    const published = records.filter((key) => key.state !== 'retired' || (key.expiresAt ?? 0) > now)
    const verification = new Map<string, VerificationKey>()
    const jwks: JWK[] = []
    for (const key of published) {
      const cached = this.#keys.verification.get(key.kid)
      verification.set(key.kid, cached ?? { alg: key.alg, publicKey: createPublicKey({ key: key.publicJwk as JsonWebKey, format: 'jwk' }) })
      jwks.push(key.publicJwk)
    }
    const active = records.find((key) => key.state === 'active')
    let signer = this.#keys.signer
    if (active === undefined) signer = undefined
    else if (signer?.kid !== active.kid) {
      const privateKey: KeyObject = createPrivateKey({
        key: open(active.privateKeySealed, this.#options.kek, active.kid),
        format: 'der',
        type: 'pkcs8',
      })
      signer = { kid: active.kid, alg: active.alg, privateKey }
    }
    const before = [...this.#keys.verification.keys()]
    this.#keys = { signer, verification, jwksJson: JSON.stringify({ keys: jwks }), records }
    if (before.length !== verification.size || before.some((kid) => !verification.has(kid))) {
      const kids = [...verification.keys()]
      for (const listener of this.#listeners) listener(kids)
    }
  }

  /** A plan takes at most two new keys (first start: one active, one next). */
  async #fillPool(): Promise<void> {
    while (this.#pool.length < 2) this.#pool.push(await this.#generate())
  }

  async #generate(): Promise<SigningKeyRecord> {
    const { signing, kek } = this.#options
    const key = await generateSigningKey(signing.algorithm, signing.rsaModulusLength)
    const pkcs8 = key.privateKey.export({ format: 'der', type: 'pkcs8' })
    return {
      kid: key.kid,
      alg: key.alg,
      state: 'next',
      publicJwk: key.publicJwk,
      privateKeySealed: seal(pkcs8, kek, key.kid),
      createdAt: epochSeconds(this.#options.clock),
      activatedAt: null,
      retiredAt: null,
      expiresAt: null,
    }
  }
}
