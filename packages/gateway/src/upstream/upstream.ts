import type { UpstreamInstance } from './upstream-instance.js'

export interface PassiveHealth {
  readonly failures: number
  readonly cooldownMs: number
}

/**
 * An upstream service: its instances taken in turn (round robin), skipping those in their
 * cooldown after `failures` consecutive failures. When every instance is cooling down, the one
 * whose cooldown ends first is tried anyway: an upstream is never shut off by the gateway alone.
 */
export class Upstream {
  #next = 0

  constructor(
    readonly name: string,
    readonly instances: readonly UpstreamInstance[],
    readonly health: PassiveHealth,
    readonly now: () => number,
  ) {}

  /** The next instance to try, other than those in `tried` when there is one. */
  pick(tried?: readonly UpstreamInstance[]): UpstreamInstance {
    const { instances } = this
    const count = instances.length
    const now = this.now()
    let fallback: UpstreamInstance | undefined
    for (let n = 0; n < count; n += 1) {
      const instance = instances[(this.#next + n) % count]!
      if (tried?.includes(instance) === true) continue
      if (instance.downUntil <= now) {
        this.#next = (this.#next + n + 1) % count
        return instance
      }
      if (fallback === undefined || instance.downUntil < fallback.downUntil) fallback = instance
    }
    this.#next = (this.#next + 1) % count
    return fallback ?? instances[this.#next]!
  }

  /** A connection, TLS or timeout failure of `instance`. */
  failed(instance: UpstreamInstance): void {
    instance.failures += 1
    if (instance.failures >= this.health.failures) instance.downUntil = this.now() + this.health.cooldownMs
  }

  /** `instance` answered. */
  answered(instance: UpstreamInstance): void {
    if (instance.failures !== 0) {
      instance.failures = 0
      instance.downUntil = 0
    }
  }
}
