/**
 * The parts of two untyped dependencies that the benchmark uses. Neither package ships
 * declarations and no `@types` package is installed, so these are kept to what is called.
 */

declare module 'autocannon' {
  /** Options of a programmatic run (see the autocannon README, "API"). */
  export interface Options {
    url: string
    connections?: number
    /** Seconds. */
    duration?: number
    method?: 'GET' | 'POST'
    headers?: Record<string, string>
    body?: string
    pipelining?: number
    /** Seconds before a request counts as timed out. */
    timeout?: number
    /** Requests to send in all, spread over the connections; the run ends after them, whatever `duration` says. */
    amount?: number
    /** The requests each connection sends in turn, each built anew before it is sent when it has a `setupRequest`. */
    requests?: RequestSpec[]
  }

  /** What `setupRequest` receives and returns: the request about to be built. */
  export interface RequestParams {
    method: string
    path: string
    headers: Record<string, string>
    body?: string | Buffer | undefined
  }

  export interface RequestSpec {
    setupRequest?: (request: RequestParams, context: object) => RequestParams
    /** Called with every response to this request, its whole body as a string. */
    onResponse?: (status: number, body: string, context: object, headers: Record<string, string | string[]>) => void
  }

  /** A histogram summary; latencies are in milliseconds. */
  export interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    total: number
    p50: number
    p90: number
    p99: number
  }

  export interface Result {
    /** Seconds. */
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
    latency: Histogram
    requests: Histogram
    statusCodeStats: Record<string, { count: number }>
  }

  /** Runs a load test; resolves when it is over. */
  export default function autocannon(options: Options): Promise<Result>
}

declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  /** The provider configuration (see the oidc-provider docs, "Configuration options"). */
  export type Configuration = Record<string, unknown>

  export class Provider {
    constructor(issuer: string, configuration?: Configuration)
    /** A request listener for `http.createServer`. */
    callback(): (request: IncomingMessage, response: ServerResponse) => void
    readonly Client: { find(id: string): Promise<Client | undefined> }
    readonly Grant: new (init: { accountId: string; clientId: string }) => Grant
    readonly AuthorizationCode: new (init: AuthorizationCodeInit) => { save(): Promise<string> }
  }

  /** A registered client, as the provider's models take it. */
  export interface Client {
    readonly clientId: string
    grantTypeAllowed(grantType: string): boolean
  }

  /** What a user granted a client (see the oidc-provider docs, "Grant"). */
  export interface Grant {
    addOIDCScope(scope: string): void
    addResourceScope(resource: string, scope: string): void
    /** Stores the grant; resolves to its id. */
    save(): Promise<string>
  }

  /** The fields of an authorization code that the benchmark sets (the authorization endpoint sets the same ones). */
  export interface AuthorizationCodeInit {
    accountId: string
    client: Client
    grantId: string
    scope: string
    redirectUri: string
    codeChallenge: string
    codeChallengeMethod: 'S256'
    authTime?: number
    nonce?: string
    resource?: string
  }

  export const errors: {
    InvalidTarget: new (description?: string) => Error
  }

  export default Provider
}

declare module 'oidc-provider/lib/helpers/lru.js' {
  /** oidc-provider's LRU, the store behind its in-memory adapter. */
  export default class LRU {
    constructor(options: { maxSize: number })
    /** Entries held, at most `maxSize`. */
    readonly size: number
  }
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  import type LRU from 'oidc-provider/lib/helpers/lru.js'

  /** oidc-provider's in-memory adapter for one model, over the store it is given. */
  export default class MemoryAdapter {
    constructor(model: string, store?: LRU, clockTolerance?: number)
    find(id: string): Promise<Record<string, unknown> | undefined>
  }
}
