import { request, type Dispatcher } from 'undici'
import { OutboundError } from '../errors.js'
import { checkInsecureHttpHosts, secureUrl } from './secure-url.js'

/** Where and as whom a service asks for tokens. */
export interface TokenEndpointOptions {
  /** The issuer's token endpoint: https, or http to loopback or a host in `insecureHttpHosts`. */
  tokenEndpoint: string | URL
  clientId: string
  /**
   * How the client authenticates. `client_secret_basic` (default, RFC 6749 §2.3.1): `clientSecret`
   * in HTTP Basic. `tls_client_auth` (RFC 8705 §2.1): the workload certificate the `dispatcher`
   * presents (e.g. `createMtlsAgent`) at the server's mutual-TLS token endpoint, with `client_id`
   * in the form and no secret; the tokens issued are then bound to that certificate (§3).
   */
  clientAuthentication?: ClientAuthentication | undefined
  /** For `client_secret_basic`, and only for it. */
  clientSecret?: string | undefined
  /** The undici dispatcher for every request, e.g. an `Agent` presenting a client certificate. Default: undici's global one; `tls_client_auth` requires one. */
  dispatcher?: Dispatcher | undefined
  /** Per token request, headers and body together; default 5,000. */
  timeoutMs?: number | undefined
  /** Hosts, besides loopback, that tokens and the secret may reach over plain http (a sidecar adding mutual TLS). Default none. */
  insecureHttpHosts?: readonly string[] | undefined
}

/** The client authentication methods (RFC 8414 `token_endpoint_auth_methods_supported` names) the outbound client can use. */
export type ClientAuthentication = 'client_secret_basic' | 'tls_client_auth'

const CLIENT_AUTHENTICATIONS: readonly unknown[] = ['client_secret_basic', 'tls_client_auth'] satisfies ClientAuthentication[]

/** A token as the endpoint issued it (RFC 6749 §5.1). */
export interface IssuedToken {
  accessToken: string
  /** `expires_in`; undefined when the endpoint did not say, and the token is then not reused. */
  expiresInSec: number | undefined
}

const MAX_RESPONSE_BYTES = 64 * 1024
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The token endpoint as a client sees it: one POST per call, the client authenticated with HTTP
 * Basic, the answer read as RFC 6749 §5.1 or §5.2. Shared by client credentials and token exchange.
 *
 * @example
 * const endpoint = new TokenEndpoint({ tokenEndpoint: 'https://auth.internal/oauth2/token', clientId: 'orders', clientSecret })
 * const { accessToken } = await endpoint.request({ grant_type: 'client_credentials', scope: 'payment.read' })
 */
export class TokenEndpoint {
  readonly url: URL
  readonly dispatcher: Dispatcher | undefined
  readonly insecureHttpHosts: readonly string[]
  /** The `Authorization` header of `client_secret_basic`; undefined for `tls_client_auth`. */
  readonly #authorization: string | undefined
  /** The form parameters that authenticate the client: `client_id` for `tls_client_auth` (RFC 8705 §2). */
  readonly #clientParams: Readonly<Record<string, string>>
  readonly #timeoutMs: number

  /** @throws TypeError naming the option that is not acceptable. */
  constructor(options: TokenEndpointOptions) {
    const { clientId, clientSecret, dispatcher, clientAuthentication = 'client_secret_basic' } = options
    this.insecureHttpHosts = checkInsecureHttpHosts(options.insecureHttpHosts)
    this.url = secureUrl('tokenEndpoint', options.tokenEndpoint, this.insecureHttpHosts)
    if (this.url.hash !== '') throw new TypeError('tokenEndpoint must not have a fragment (RFC 6749 §3.2)')
    if (typeof clientId !== 'string' || clientId === '') throw new TypeError('clientId must be a non-empty string')
    if (dispatcher !== undefined && typeof (dispatcher as Partial<Dispatcher> | null)?.dispatch !== 'function') {
      throw new TypeError('dispatcher must be an undici Dispatcher')
    }
    if (!CLIENT_AUTHENTICATIONS.includes(clientAuthentication)) throw new TypeError("clientAuthentication must be 'client_secret_basic' or 'tls_client_auth'")
    if (clientAuthentication === 'client_secret_basic') {
      if (typeof clientSecret !== 'string' || clientSecret === '') throw new TypeError('clientSecret must be a non-empty string')
      // RFC 6749 §2.3.1: id and secret are form-urlencoded (Appendix B) before they are joined and base64-encoded.
      this.#authorization = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`
      this.#clientParams = {}
    } else {
      if (clientSecret !== undefined) throw new TypeError('clientSecret must not be given with tls_client_auth: the certificate is the credential')
      if (dispatcher === undefined) throw new TypeError("tls_client_auth needs a dispatcher presenting the workload's certificate (createMtlsAgent)")
      if (this.url.protocol !== 'https:') throw new TypeError("tls_client_auth needs an https tokenEndpoint: the server's mutual-TLS one (RFC 8705 §2)")
      this.#authorization = undefined
      this.#clientParams = { client_id: clientId }
    }
    const timeoutMs = options.timeoutMs ?? 5_000
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMER_MS) {
      throw new TypeError(`timeoutMs must be a positive integer, at most ${MAX_TIMER_MS}`)
    }
    this.dispatcher = dispatcher
    this.#timeoutMs = timeoutMs
  }

  /** POSTs `params` (a list for a parameter that repeats); resolves to the token, rejects with an {@link OutboundError}. */
  async request(params: Readonly<Record<string, string | readonly string[]>>): Promise<IssuedToken> {
    const where = `the token endpoint ${this.url.href}`
    let status: number
    let text: string | undefined
    try {
      const response = await request(this.url, {
        method: 'POST',
        headers: {
          ...(this.#authorization !== undefined && { authorization: this.#authorization }),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: formBody({ ...params, ...this.#clientParams }),
        dispatcher: this.dispatcher,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      status = response.statusCode
      text = await readText(response.body)
    } catch (err) {
      throw new OutboundError('ERR_TOKEN_ENDPOINT_UNREACHABLE', `${where} cannot be reached: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    const body = text === undefined ? undefined : parseObject(text)
    if (status !== 200) {
      // RFC 6749 §5.2: an error response names its `error` in a JSON object.
      const oauthError = typeof body?.error === 'string' ? body.error : undefined
      const description = typeof body?.error_description === 'string' ? `: ${body.error_description}` : ''
      const message = oauthError === undefined ? `${where} answered ${status}` : `${where} refused with ${oauthError}${description}`
      throw new OutboundError('ERR_TOKEN_ENDPOINT', message, { status, oauthError })
    }
    const invalid = (why: string) => new OutboundError('ERR_TOKEN_RESPONSE_INVALID', `${where} sent ${why}`, { status })
    if (text === undefined) throw invalid(`more than ${MAX_RESPONSE_BYTES} bytes`)
    if (body === undefined) throw invalid('a response that is not a JSON object')
    const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn } = body
    if (typeof accessToken !== 'string' || !BEARER_TOKEN.test(accessToken)) throw invalid('no usable access_token')
    // RFC 6749 §5.1: token_type is case-insensitive; only a bearer token (RFC 6750) can be sent as one.
    if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') throw invalid('a token_type other than Bearer')
    if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0)) {
      throw invalid('an expires_in that is not a number of seconds')
    }
    return { accessToken, expiresInSec: expiresIn }
  }
}

/** RFC 6750 §2.1: the b64token a bearer token must be to fit in an Authorization header. */
export const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

function formBody(params: Readonly<Record<string, string | readonly string[]>>): string {
  const form = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    for (const item of typeof value === 'string' ? [value] : value) form.append(name, item)
  }
  return form.toString()
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

/** The body as text; undefined past {@link MAX_RESPONSE_BYTES}. */
async function readText(body: Dispatcher.ResponseData['body']): Promise<string | undefined> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_RESPONSE_BYTES) {
      body.destroy()
      return undefined
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
