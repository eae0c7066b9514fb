import { createHash } from 'node:crypto'
import { IssuedTokens, type TokenCachingOptions } from './issued-tokens.js'
import { scopeParameter } from './scope-parameter.js'
import { BEARER_TOKEN, TokenEndpoint, type TokenEndpointOptions } from './token-endpoint.js'

export interface TokenExchangeOptions extends TokenEndpointOptions, TokenCachingOptions {
  /** Exchanged tokens kept, one per subject token, audience and scope; default 10,000. */
  maxEntries?: number | undefined
}

/** What a caller's token is exchanged for. */
export interface ExchangeTarget {
  /**
   * The next service: the exchanged token is addressed to it alone (RFC 8693 §2.1). A list when
   * the token must travel further on: each is sent as its own `audience` parameter, and the token
   * is addressed to them all (a cart exchanging for order-service and payment-service, so that
   * order-service can exchange it again for payment-service with scope it carries).
   */
  audience: string | readonly string[]
  /** Scope tokens, as a list or space-separated; default: the subject token's, as far as this client may have them. */
  scope?: string | readonly string[] | undefined
}

const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

/**
 * Token exchange (RFC 8693) for calls made on a caller's behalf: the caller's token becomes one for
 * the next service, with the same subject and this service added to its `act` chain. Results are
 * reused per subject token, audience and scope, never past the exchanged token's expiry, and
 * concurrent exchanges of the same token share one request.
 *
 * @example
 * const exchange = new TokenExchange({ tokenEndpoint: 'https://auth.internal/oauth2/token', clientId: 'order-service', clientSecret })
 * const token = await exchange.exchange(auth.callerToken, { audience: 'payment-service', scope: 'payment.write' })
 */
export class TokenExchange {
  readonly #endpoint: TokenEndpoint
  readonly #tokens: IssuedTokens

  /** @throws TypeError naming the option that is not acceptable. */
  constructor(options: TokenExchangeOptions) {
    const maxEntries = options.maxEntries ?? 10_000
    if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 10_000_000) {
      throw new TypeError('maxEntries must be an integer from 1 to 10000000')
    }
    this.#endpoint = new TokenEndpoint(options)
    this.#tokens = new IssuedTokens({ ...options, maxEntries })
  }

  /**
   * The exchanged token. Rejects with a `TypeError` for a bad argument, or an
   * {@link OutboundError} when the endpoint refuses (an expired or foreign subject token is
   * `invalid_request`, RFC 8693 §2.2.2).
   */
  async exchange(subjectToken: string, target: ExchangeTarget): Promise<string> {
    if (typeof subjectToken !== 'string' || !BEARER_TOKEN.test(subjectToken)) {
      throw new TypeError('subjectToken must be a bare bearer token (RFC 6750 §2.1), without "Bearer "')
    }
    const audience = audienceParameter(target.audience)
    const scope = scopeParameter('scope', target.scope)
    // RFC 8693 §2.1
    const params: Record<string, string | readonly string[]> = {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience,
    }
    if (scope !== undefined) params.scope = scope
    const key = JSON.stringify([createHash('sha256').update(subjectToken).digest('base64url'), audience, scope])
    return this.#tokens.get(key, () => this.#endpoint.request(params))
  }
}

/** One audience as a string, several as a list of distinct ones. */
function audienceParameter(value: unknown): string | readonly string[] {
  if (typeof value === 'string' && value !== '') return value
  const list: unknown[] = Array.isArray(value) ? value : []
  if (list.length === 0 || !list.every((item) => typeof item === 'string' && item !== '')) {
    throw new TypeError('audience must be a non-empty string or a non-empty list of them')
  }
  const distinct = [...new Set(list as string[])].sort()
  return distinct.length === 1 ? distinct[0]! : distinct
}
