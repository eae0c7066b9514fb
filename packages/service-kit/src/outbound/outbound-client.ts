import { request, type Dispatcher } from 'undici'
import { ClientCredentials, type TokenTarget } from './client-credentials.js'
import { checkInsecureHttpHosts, secureUrl } from './secure-url.js'
import { BEARER_TOKEN } from './token-endpoint.js'
import { TokenExchange, type ExchangeTarget, type TokenExchangeOptions } from './token-exchange.js'

/**
 * The token endpoint and client this service asks for tokens as, how tokens are reused, and the
 * undici dispatcher every request goes through (the downstream calls and the token requests).
 */
export type OutboundClientOptions = TokenExchangeOptions

/** The HTTP side of an outbound request, as undici's `request` takes it. */
export interface OutboundHttpOptions {
  /** Default `GET`. */
  method?: Dispatcher.HttpMethod | undefined
  /** Must not name `Authorization` or `X-Scope-Token`, whatever the case: the client sets those. */
  headers?: Readonly<Record<string, string | readonly string[]>> | undefined
  body?: Dispatcher.RequestOptions['body']
  signal?: AbortSignal | undefined
  headersTimeout?: number | undefined
  bodyTimeout?: number | undefined
}

/**
 * Whose token goes out. With `caller`, the caller's token is forwarded as `Authorization`, and
 * `scopeToken` adds this service's own token as `X-Scope-Token` (the downstream service takes
 * identity from the first, scopes from the second), or `exchange` replaces the caller's token
 * with one exchanged for the next service (RFC 8693). Without a caller, `ownToken` sends this
 * service's own token as `Authorization`.
 */
export type OutboundCredentials =
  | { caller: string; scopeToken?: TokenTarget | undefined; exchange?: never; ownToken?: never }
  | { caller: string; exchange: ExchangeTarget; scopeToken?: never; ownToken?: never }
  | { ownToken: TokenTarget; caller?: never; scopeToken?: never; exchange?: never }

export type OutboundRequestOptions = OutboundHttpOptions & OutboundCredentials

export interface OutboundClient {
  /**
   * Sends one request with the tokens `options` asks for and resolves to undici's response, whose
   * body must be consumed. Redirects are not followed, so tokens never reach another origin
   * (unless the dispatcher given follows them: do not give one that does). Rejects with a
   * `TypeError` for contradictory options, with an {@link OutboundError} when a token cannot be
   * had, and with undici's error when the request fails; nothing is sent in the first two cases.
   */
  request(url: string | URL, options: OutboundRequestOptions): Promise<Dispatcher.ResponseData>
  /** This service's own tokens, also for callers other than `request` (gRPC call credentials). */
  readonly credentials: ClientCredentials
  readonly tokenExchange: TokenExchange
}

interface UncheckedCredentials {
  caller?: unknown
  scopeToken?: unknown
  exchange?: unknown
  ownToken?: unknown
}

const RESERVED_HEADERS = new Set(['authorization', 'x-scope-token'])

/**
 * A client for calls to other services. Tokens are only sent over https, or plain http to
 * loopback or a host in `insecureHttpHosts`. A header that would carry a token is refused when
 * the caller supplies it, never silently replaced.
 *
 * @throws TypeError naming the option that is not acceptable.
 * @example
 * const outbound = createOutboundClient({ tokenEndpoint: 'https://auth.internal/oauth2/token', clientId: 'order-service', clientSecret })
 * // Seed 004: the caller's identity, this service's scopes.
 * await outbound.request('https://payments.internal/payments', {
 *   caller: auth.callerToken,
 *   scopeToken: { scope: 'payment.read', audience: 'payment-service' },
 * })
 * // Token chaining: the caller's token exchanged for one naming order-service as its actor.
 * await outbound.request('https://payments.internal/payments', {
 *   method: 'POST',
 *   caller: auth.callerToken,
 *   exchange: { audience: 'payment-service', scope: 'payment.write' },
 * })
 * // As this service itself.
 * await outbound.request('https://payments.internal/payments', { ownToken: { scope: 'payment.read' } })
 */
export function createOutboundClient(options: OutboundClientOptions): OutboundClient {
  const credentials = new ClientCredentials(options)
  const tokenExchange = new TokenExchange(options)
  const insecureHttpHosts = checkInsecureHttpHosts(options.insecureHttpHosts)
  const { dispatcher } = options

  /** Checked here as well as by the types, since a cast or a JavaScript caller gets past those. */
  const tokensFor = (given: UncheckedCredentials): Promise<{ authorization: string; scopeToken?: string }> => {
    const { caller, scopeToken, exchange, ownToken } = given
    const hasCaller = Object.hasOwn(given, 'caller')
    if (hasCaller && (typeof caller !== 'string' || caller === '')) {
      throw new TypeError("caller must be the caller's token; a public route has none, so use ownToken to call as this service")
    }
    if (typeof caller === 'string' && !BEARER_TOKEN.test(caller)) throw new TypeError('caller must be a bare bearer token (RFC 6750 §2.1), without "Bearer "')
    if (ownToken !== undefined && hasCaller) {
      throw new TypeError("ownToken is for calls made as this service; with a caller, use scopeToken to add this service's token")
    }
    if (exchange !== undefined && !hasCaller) throw new TypeError('exchange needs the caller token to exchange')
    if (scopeToken !== undefined && !hasCaller) throw new TypeError('scopeToken goes with a caller token; without a caller, use ownToken')
    if (exchange !== undefined && scopeToken !== undefined) {
      throw new TypeError('give exchange or scopeToken, not both: an exchanged token carries its own scopes')
    }
    if (!hasCaller && ownToken === undefined) {
      throw new TypeError("give caller (to call on the caller's behalf) or ownToken (to call as this service)")
    }
    for (const [name, target] of Object.entries({ exchange, scopeToken, ownToken })) {
      if (target !== undefined && (typeof target !== 'object' || target === null)) throw new TypeError(`${name} must be an object`)
    }

    if (typeof caller !== 'string') return credentials.get(ownToken as TokenTarget).then((token) => ({ authorization: token }))
    if (exchange !== undefined) return tokenExchange.exchange(caller, exchange as ExchangeTarget).then((token) => ({ authorization: token }))
    if (scopeToken !== undefined) return credentials.get(scopeToken as TokenTarget).then((token) => ({ authorization: caller, scopeToken: token }))
    return Promise.resolve({ authorization: caller })
  }

  return {
    credentials,
    tokenExchange,
    async request(url, requestOptions) {
      const target = secureUrl('url', url, insecureHttpHosts)
      const headers: Record<string, string | string[]> = {}
      for (const [name, value] of Object.entries(requestOptions.headers ?? {})) {
        if (RESERVED_HEADERS.has(name.toLowerCase())) {
          throw new TypeError(`headers must not set ${name.toLowerCase()}: the client sets it from caller, exchange, scopeToken or ownToken`)
        }
        headers[name] = typeof value === 'string' ? value : [...value]
      }
      const tokens = await tokensFor(requestOptions)
      headers.authorization = `Bearer ${tokens.authorization}`
      if (tokens.scopeToken !== undefined) headers['x-scope-token'] = tokens.scopeToken
      return request(target, {
        method: requestOptions.method ?? 'GET',
        headers,
        body: requestOptions.body,
        signal: requestOptions.signal,
        headersTimeout: requestOptions.headersTimeout,
        bodyTimeout: requestOptions.bodyTimeout,
        dispatcher,
      })
    },
  }
}
