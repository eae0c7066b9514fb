/** An opaque token exchanged for its JWT. */
export interface PhantomEntry {
  readonly jwt: string
  readonly jti: string
  /** When the JWT expires, milliseconds since the epoch: the entry is not kept past it. */
  readonly expiresAt: number
}

/**
 * Opaque tokens already exchanged, in this instance's memory, by {@link phantomTokenId}: each
 * until its JWT expires, at most `maxEntries` (past it, the oldest goes first), and evicted as
 * soon as its `jti` is revoked. The JWT is verified again on every use, so an entry is only a
 * shortcut past introspection, never past the verifier.
 *
 * @example
 * const cache = new PhantomCache(10_000, Date.now)
 * cache.set(phantomTokenId(token), { jwt, jti, expiresAt: exp * 1000 })
 */
export class PhantomCache {
  readonly #entries = new Map<string, PhantomEntry>()
  readonly #byJti = new Map<string, string>()

  /** @param maxEntries may be changed later (a reloaded configuration); it bounds the next insertions */
  constructor(
    public maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(id: string): PhantomEntry | undefined {
    const entry = this.#entries.get(id)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.now()) return entry
    this.#delete(id, entry)
    return undefined
  }

  set(id: string, entry: PhantomEntry): void {
    if (entry.expiresAt <= this.now()) return
    const existing = this.#entries.get(id)
    if (existing !== undefined) this.#delete(id, existing)
    while (this.#entries.size >= this.maxEntries) {
      const [oldestId, oldest] = this.#entries.entries().next().value!
      this.#delete(oldestId, oldest)
    }
    this.#entries.set(id, entry)
    this.#byJti.set(entry.jti, id)
  }

  /** Forgets the token whose JWT carries this `jti`. */
  evict(jti: string): void {
    const id = this.#byJti.get(jti)
    const entry = id === undefined ? undefined : this.#entries.get(id)
    if (id !== undefined && entry !== undefined) this.#delete(id, entry)
  }

  get size(): number {
    return this.#entries.size
  }

  #delete(id: string, entry: PhantomEntry): void {
    this.#entries.delete(id)
    if (this.#byJti.get(entry.jti) === id) this.#byJti.delete(entry.jti)
  }
}
