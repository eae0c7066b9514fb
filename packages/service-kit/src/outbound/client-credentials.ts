import { IssuedTokens, type TokenCachingOptions } from './issued-tokens.js'
import { scopeParameter } from './scope-parameter.js'
import { TokenEndpoint, type TokenEndpointOptions } from './token-endpoint.js'

export interface ClientCredentialsOptions extends TokenEndpointOptions, TokenCachingOptions {}

/** What a service's own token is for. */
export interface TokenTarget {
  /** Scope tokens, as a list or space-separated; default: every scope the client is allowed (RFC 6749 §3.3). */
  scope?: string | readonly string[] | undefined
  /** The resource server the token is for (RFC 8707); default: the owners of the scopes granted. */
  audience?: string | undefined
}

/**
 * This service's own access tokens, from the client credentials grant (RFC 6749 §4.4). One token
 * is kept per scope and audience and replaced `refreshBeforeSec` before it expires; concurrent
 * callers share one request, and a failed one is not remembered.
 *
 * @example
 * const credentials = new ClientCredentials({ tokenEndpoint: 'https://auth.internal/oauth2/token', clientId: 'order-service', clientSecret })
 * const token = await credentials.get({ scope: 'payment.read', audience: 'payment-service' })
 */
export class ClientCredentials {
  readonly #endpoint: TokenEndpoint
  readonly #tokens: IssuedTokens

  /** @throws TypeError naming the option that is not acceptable. */
  constructor(options: ClientCredentialsOptions) {
    this.#endpoint = new TokenEndpoint(options)
    this.#tokens = new IssuedTokens({ ...options, maxEntries: 1_000 })
  }

  /**
   * An access token for `target`. Rejects with a `TypeError` for a bad target, or an
   * {@link OutboundError} when no token can be had.
   */
  async get(target: TokenTarget = {}): Promise<string> {
    const scope = scopeParameter('scope', target.scope)
    const { audience } = target
    if (audience !== undefined && (typeof audience !== 'string' || audience === '')) throw new TypeError('audience must be a non-empty string')
    const params: Record<string, string> = { grant_type: 'client_credentials' }
    if (scope !== undefined) params.scope = scope
    if (audience !== undefined) params.audience = audience
    return this.#tokens.get(JSON.stringify([scope, audience]), () => this.#endpoint.request(params))
  }
}
