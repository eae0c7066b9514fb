import type { PhantomEntry } from './phantom-cache.js'

/**
 * The phantom-token cache shared by every gateway instance (Redis), under each one's
 * {@link PhantomCache}: a token one instance exchanged is not introspected again by the others.
 */
export interface SharedPhantomCache {
  /** Whether it can be asked now; when not, {@link SharedPhantomCache.get} would fail at once. */
  readonly available: boolean
  /**
   * The JWT for this opaque token, when an instance exchanged it, it has not expired and its `jti`
   * has not been revoked. Rejects when the cache cannot be reached.
   */
  get(token: string, id: string): Promise<string | undefined>
  /** Keeps the exchange until the JWT expires. Rejects when the cache cannot be reached. */
  set(token: string, id: string, entry: PhantomEntry): Promise<void>
}
