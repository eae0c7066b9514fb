import { Agent, request } from 'undici'
import type { IntrospectionConfig } from '../config/schema.js'
import { GatewayError } from '../errors.js'

/** What the authorization server said of an opaque token. */
export type Introspection = { readonly active: true; readonly jwt: string } | { readonly active: false }

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/
/** An answer longer than this is not a JWT nor `{"active":false}`. */
const MAX_ANSWER_BYTES = 64 * 1024

/**
 * The phantom-token exchange at the authorization server: RFC 7662 introspection with
 * `Accept: application/jwt`, authenticated as the gateway's own client with `client_secret_basic`
 * (RFC 6749 §2.3.1). An active token is answered with its JWT (`Content-Type: application/jwt`),
 * any other with `{"active":false}` (RFC 7662 §2.2); see ADR 0010.
 *
 * @example
 * const client = new IntrospectionClient(config.introspection)
 * const answer = await client.exchange('mgat_…') // { active: true, jwt: 'eyJ…' }
 */
export class IntrospectionClient {
  /** Two clients with the same key are interchangeable: a reload keeps the one it has. */
  readonly settingsKey: string
  readonly #endpoint: URL
  readonly #authorization: string
  readonly #timeoutMs: number
  readonly #agent: Agent

  constructor(config: IntrospectionConfig) {
    this.settingsKey = IntrospectionClient.settingsKey(config)
    this.#endpoint = new URL(config.endpoint)
    this.#authorization = `Basic ${Buffer.from(`${formEncode(config.clientId)}:${formEncode(config.clientSecret)}`).toString('base64')}`
    this.#timeoutMs = config.timeoutMs
    this.#agent = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: config.timeoutMs } })
  }

  /** What tells two clients apart: the settings of the exchange, not the cache's. */
  static settingsKey(config: IntrospectionConfig): string {
    return JSON.stringify([config.endpoint, config.clientId, config.clientSecret, config.timeoutMs])
  }

  /**
   * @throws GatewayError `ERR_INTROSPECTION_UNAVAILABLE` when the server cannot be reached, times
   * out or is failing (5xx, 429); `ERR_INTROSPECTION_INVALID` when it answers something else than
   * a JWT or `{"active":false}` (the gateway's credentials refused, a client without `phantomTokens`)
   */
  async exchange(token: string): Promise<Introspection> {
    let status: number
    let type: string
    let text: string
    try {
      const response = await request(this.#endpoint, {
        dispatcher: this.#agent,
        method: 'POST',
        headers: {
          authorization: this.#authorization,
          accept: 'application/jwt',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(this.#timeoutMs),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      })
      status = response.statusCode
      type = mediaType(response.headers['content-type'])
      if (Number(response.headers['content-length'] ?? 0) > MAX_ANSWER_BYTES) {
        await response.body.dump()
        throw invalid(`an answer of ${String(response.headers['content-length'])} bytes`)
      }
      text = await response.body.text()
    } catch (err) {
      if (err instanceof GatewayError) throw err
      throw new GatewayError('ERR_INTROSPECTION_UNAVAILABLE', 'the authorization server cannot be reached to check the token', { cause: err })
    }
    if (status >= 500 || status === 429) {
      throw new GatewayError('ERR_INTROSPECTION_UNAVAILABLE', `the authorization server cannot check the token now (introspection answered ${status})`)
    }
    if (status === 401) throw invalid("401: the authorization server refused the gateway's client credentials")
    if (status !== 200) throw invalid(String(status))
    if (type === 'application/jwt') {
      const jwt = text.trim()
      if (!JWT_SHAPE.test(jwt)) throw invalid('an application/jwt body that is not a compact JWT')
      return { active: true, jwt }
    }
    if (type === 'application/json') {
      const active = activeMember(text)
      if (active === false) return { active: false }
      if (active === true) throw invalid("claims instead of the JWT: the gateway's client is not registered for phantom tokens")
    }
    throw invalid(`200 ${type || 'without a content type'}`)
  }

  close(): Promise<void> {
    return this.#agent.close()
  }
}

function invalid(what: string): GatewayError {
  return new GatewayError('ERR_INTROSPECTION_INVALID', `the authorization server's introspection answer cannot be used: ${what}`)
}

function mediaType(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header
  return (value ?? '').split(';', 1)[0]!.trim().toLowerCase()
}

function activeMember(text: string): unknown {
  try {
    const body: unknown = JSON.parse(text)
    return typeof body === 'object' && body !== null ? (body as { active?: unknown }).active : undefined
  } catch {
    return undefined
  }
}

/** RFC 6749 §2.3.1: the client id and secret are form-urlencoded before Basic encodes them. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replaceAll('%20', '+')
}
