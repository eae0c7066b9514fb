import { OutboundError, type OutboundClient, type OutboundCredentials } from '@meshguard/service-kit'
import { PeerRefusalError } from '@meshguard/service-kit/tls'
import type { PeerEndpoint } from '../runtime/service-config.js'

/** What a peer answered, or why there was no answer. */
export interface PeerAnswer {
  service: string
  /** Null when no answer came: no token, no connection, or a refused peer certificate. */
  status: number | null
  body: unknown
}

export interface PeerCall {
  method?: 'GET' | 'POST' | undefined
  /** Sent as JSON. */
  body?: unknown
  /** Whose token goes out, as the service kit's outbound client takes it. */
  credentials: OutboundCredentials
}

/**
 * The services one service calls, through the service kit's outbound client: it fetches, caches
 * and attaches the tokens; this only addresses the peer and reads its JSON answer. A failure to
 * reach a peer is an answer too (`status: null`), so an aggregate can say which hop failed.
 */
export class Peers {
  readonly #outbound: Pick<OutboundClient, 'request'> | undefined
  readonly #endpoints: Readonly<Record<string, PeerEndpoint>>

  constructor(outbound: Pick<OutboundClient, 'request'> | undefined, endpoints: Readonly<Record<string, PeerEndpoint>>) {
    this.#outbound = outbound
    this.#endpoints = endpoints
  }

  /** Calls `path` on `service`; never rejects. */
  async call(service: string, path: string, call: PeerCall): Promise<PeerAnswer> {
    const endpoint = this.#endpoints[service]
    if (endpoint === undefined || this.#outbound === undefined) {
      return { service, status: null, body: { error: 'ERR_PEER_UNKNOWN', error_description: `no address is configured for ${service}` } }
    }
    try {
      const response = await this.#outbound.request(`${endpoint.url.replace(/\/+$/, '')}${path}`, {
        ...call.credentials,
        method: call.method ?? 'GET',
        headers: call.body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      })
      const text = await response.body.text()
      return { service, status: response.statusCode, body: parseJson(text) }
    } catch (err) {
      return { service, status: null, body: { error: errorCode(err), error_description: err instanceof Error ? err.message : String(err) } }
    }
  }
}

function errorCode(err: unknown): string {
  if (err instanceof OutboundError || err instanceof PeerRefusalError) return err.code
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'ERR_PEER_UNREACHABLE'
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}
