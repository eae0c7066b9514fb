import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import { epochSeconds, type Clock } from '../clock.js'
import type { RevocationListener } from '../events/revocation-bus.js'
import type { ClientRecord, Store } from '../store/store.js'

export interface DirectoryOptions {
  store: Store
  clock: Clock
  logger?: Logger | undefined
  /** How often the snapshot is rebuilt from the store. */
  refreshIntervalSec: number
  /** Past this age without a successful refresh, every lookup goes to the store again. */
  maxStaleSec: number
  /** Told of each revocation first learnt from the store (made by another instance or the CLI). */
  onRevocationLearnt?: RevocationListener
  /** Monotonic milliseconds, for the snapshot's age; `performance.now` by default. */
  monotonicNow?: () => number
}

/**
 * Revocations are re-read this far behind the newest one seen, so one stamped a little earlier
 * (another instance's clock, a commit that landed late) is not skipped.
 */
const REVOCATION_OVERLAP_SEC = 60

interface Snapshot {
  clients: Map<string, ClientRecord>
  scopeOwners: Map<string, string>
  resourceServers: Set<string>
}

/**
 * What the token, introspection and revocation endpoints look up on every request — clients,
 * which resource server owns a scope, revoked `jti`s — held in memory and refreshed from the store.
 *
 * - A miss falls through to the store, so a client registered a moment ago works at once.
 * - A deletion or a revocation made elsewhere (the CLI, another instance) is seen within
 *   `refreshIntervalSec`; this instance's own revocations immediately.
 * - Fail closed: when the snapshot is older than `maxStaleSec` because the store cannot be read,
 *   every lookup goes to the store, and fails as it does.
 */
export class Directory {
  readonly #options: DirectoryOptions
  #snapshot: Snapshot = { clients: new Map(), scopeOwners: new Map(), resourceServers: new Set() }
  /** jti → when the revoked token would have expired (seconds). */
  readonly #revoked = new Map<string, number>()
  #revocationWatermark = 0
  #refreshedAt = Number.NEGATIVE_INFINITY
  #timer: NodeJS.Timeout | undefined

  constructor(options: DirectoryOptions) {
    this.#options = options
  }

  /** Rebuilds the snapshot; new revocations are read incrementally. */
  async refresh(): Promise<void> {
    const { store } = this.#options
    const [clients, resources, revocations] = await Promise.all([
      store.listClients(),
      store.listResourceServers(),
      store.listRevocations(Math.max(0, this.#revocationWatermark - REVOCATION_OVERLAP_SEC)),
    ])
    const snapshot: Snapshot = { clients: new Map(), scopeOwners: new Map(), resourceServers: new Set() }
    for (const client of clients) snapshot.clients.set(client.id, client)
    for (const resource of resources) {
      snapshot.resourceServers.add(resource.id)
      for (const scope of resource.scopes) snapshot.scopeOwners.set(scope, resource.id)
    }
    for (const revocation of revocations) {
      if (!this.#revoked.has(revocation.jti)) this.#options.onRevocationLearnt?.(revocation)
      this.#revoked.set(revocation.jti, revocation.expiresAt)
      this.#revocationWatermark = Math.max(this.#revocationWatermark, revocation.revokedAt)
    }
    this.#snapshot = snapshot
    this.#refreshedAt = this.#monotonicNow()
  }

  start(): void {
    this.stop()
    this.#timer = setInterval(() => {
      this.refresh().catch((err: unknown) => {
        this.#options.logger?.error({ err, event: 'directory.refresh_failed' }, 'could not refresh clients and revocations from the store')
      })
      this.#forgetExpired()
    }, this.#options.refreshIntervalSec * 1000)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  async getClient(id: string): Promise<ClientRecord | undefined> {
    const cached = this.#fresh() ? this.#snapshot.clients.get(id) : undefined
    return cached ?? this.#options.store.getClient(id)
  }

  /** Maps each known scope to the resource server that defines it. */
  async resolveScopes(scopes: readonly string[]): Promise<Map<string, string>> {
    if (!this.#fresh()) return this.#options.store.resolveScopes(scopes)
    const owners = new Map<string, string>()
    const missing: string[] = []
    for (const scope of scopes) {
      const owner = this.#snapshot.scopeOwners.get(scope)
      if (owner === undefined) missing.push(scope)
      else owners.set(scope, owner)
    }
    if (missing.length > 0) for (const [scope, owner] of await this.#options.store.resolveScopes(missing)) owners.set(scope, owner)
    return owners
  }

  /** The ids that are not registered resource servers. */
  async unknownResourceServers(ids: readonly string[]): Promise<string[]> {
    const candidates = this.#fresh() ? ids.filter((id) => !this.#snapshot.resourceServers.has(id)) : ids
    if (candidates.length === 0) return []
    const registered = new Set((await this.#options.store.listResourceServers()).map((resource) => resource.id))
    return candidates.filter((id) => !registered.has(id))
  }

  async isRevoked(jti: string): Promise<boolean> {
    if (this.#revoked.has(jti)) return true
    return this.#fresh() ? false : this.#options.store.isRevoked(jti)
  }

  /** Every revoked `jti` still worth refusing, with when its token expires (seconds). */
  revoked(): ReadonlyMap<string, number> {
    return this.#revoked
  }

  /** A revocation this instance has just stored. */
  noteRevoked(jti: string, expiresAt: number): void {
    this.#revoked.set(jti, expiresAt)
  }

  #fresh(): boolean {
    return this.#monotonicNow() - this.#refreshedAt <= this.#options.maxStaleSec * 1000
  }

  #monotonicNow(): number {
    return this.#options.monotonicNow ? this.#options.monotonicNow() : performance.now()
  }

  #forgetExpired(): void {
    const now = epochSeconds(this.#options.clock)
    for (const [jti, expiresAt] of this.#revoked) if (expiresAt < now - 300) this.#revoked.delete(jti)
  }
}
