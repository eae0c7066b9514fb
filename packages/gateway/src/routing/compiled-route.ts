import type { RateLimit } from '../rate-limit/rate-limit-store.js'
import type { CompiledCors } from '../cors/compile-cors.js'
import type { Upstream } from '../upstream/upstream.js'

/** A route of the configuration, ready for the request path. */
export interface CompiledRoute {
  readonly name: string
  readonly pathPrefix: string
  readonly host: string | undefined
  readonly upstream: Upstream
  readonly stripPrefix: boolean
  /** `public` forwards without reading a token; otherwise a valid token for `audience`, with `scopes` if any. */
  readonly public: boolean
  readonly audience: string
  /** All required (an empty list: any valid token). */
  readonly scopes: readonly string[]
  readonly timeoutMs: number
  readonly retries: number
  readonly bodyLimitBytes: number
  readonly cors: CompiledCors | undefined
  readonly perClient: RateLimit | undefined
  readonly perIp: RateLimit | undefined
}
