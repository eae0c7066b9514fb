import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { request, type Dispatcher } from 'undici'
import {
  createAuthServer,
  parseConfig,
  registerClient,
  registerResourceServer,
  type AuthServer,
  type AuthServerConfigInput,
  type ClientInput,
  type Clock,
} from '../../src/index.js'

/** A clock tests move by hand. */
export class TestClock implements Clock {
  constructor(private ms = Date.now()) {}
  now(): number {
    return this.ms
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000
  }
  set(ms: number): void {
    this.ms = ms
  }
}

export interface TestServer {
  server: AuthServer
  issuer: string
  /** Where it listens; differs from the issuer when one is configured (as behind a load balancer). */
  baseUrl: string
  tokenEndpoint: string
  introspectionEndpoint: string
  revocationEndpoint: string
  jwksUri: string
  /** Where the mutual-TLS listener serves the endpoints, when `mtls` is configured: `https://127.0.0.1:<port>`. */
  mtls: MtlsEndpoints | undefined
  clock: TestClock
  dataDir: string
  keyEncryptionKey: string
  resource(id: string, scopes: string[]): Promise<void>
  /** Registers a client; returns its secret (undefined for private_key_jwt clients). */
  client(input: ClientInput): Promise<string | undefined>
  /** Stops the server; the data directory survives unless `cleanup` is called. */
  stop(): Promise<void>
  cleanup(): void
}

export interface MtlsEndpoints {
  baseUrl: string
  tokenEndpoint: string
  introspectionEndpoint: string
  revocationEndpoint: string
}

export interface TestServerOptions {
  config?: AuthServerConfigInput
  dataDir?: string
  databaseUrl?: string
  keyEncryptionKey?: string
  clock?: TestClock
}

/** A real server on 127.0.0.1, port 0, with its own data directory (SQLite) or the given PostgreSQL database. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'meshguard-test-'))
  const keyEncryptionKey = options.keyEncryptionKey ?? randomBytes(32).toString('base64url')
  const clock = options.clock ?? new TestClock()
  const config = parseConfig({
    port: 0,
    dataDir,
    databaseUrl: options.databaseUrl,
    keyEncryptionKey,
    log: { level: 'silent' },
    ...options.config,
  })
  const server = await createAuthServer(config, { clock, logger: pino({ level: 'silent' }) })
  const issuer = await server.listen()
  const { port } = server.app.server.address() as { port: number }
  const path = new URL(issuer).pathname.replace(/\/$/, '')
  const baseUrl = `http://127.0.0.1:${port}${path}`
  const mtlsAddress = server.mtls?.app.server.address() as { port: number } | undefined
  const mtlsBaseUrl = mtlsAddress && `https://127.0.0.1:${mtlsAddress.port}${path}`
  const now = () => Math.floor(clock.now() / 1000)
  return {
    server,
    issuer,
    baseUrl,
    tokenEndpoint: `${baseUrl}/oauth2/token`,
    introspectionEndpoint: `${baseUrl}/oauth2/introspect`,
    revocationEndpoint: `${baseUrl}/oauth2/revoke`,
    jwksUri: `${baseUrl}/.well-known/jwks.json`,
    mtls: mtlsBaseUrl === undefined
      ? undefined
      : {
          baseUrl: mtlsBaseUrl,
          tokenEndpoint: `${mtlsBaseUrl}/oauth2/token`,
          introspectionEndpoint: `${mtlsBaseUrl}/oauth2/introspect`,
          revocationEndpoint: `${mtlsBaseUrl}/oauth2/revoke`,
        },
    clock,
    dataDir,
    keyEncryptionKey,
    async resource(id, scopes) {
      await registerResourceServer(server.context.store, { id, scopes }, now())
    },
    async client(input) {
      return (await registerClient(server.context.store, input, now())).secret
    },
    stop: () => server.close(),
    cleanup: () => {
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

export interface OAuthResponse {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

function formOf(params: Record<string, string | string[]>): URLSearchParams {
  const form = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) form.append(name, item)
  }
  return form
}

/**
 * POSTs a form through an undici dispatcher (an `Agent` presenting a client certificate, say)
 * and returns status, headers and the JSON body.
 */
export async function postFormVia(
  dispatcher: Dispatcher,
  url: string,
  params: Record<string, string | string[]>,
  headers: Record<string, string> = {},
): Promise<OAuthResponse> {
  const response = await request(url, {
    dispatcher,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: formOf(params).toString(),
  })
  const text = await response.body.text()
  const responseHeaders = new Headers()
  for (const [name, value] of Object.entries(response.headers)) {
    for (const item of Array.isArray(value) ? value : [value ?? '']) responseHeaders.append(name, item)
  }
  return { status: response.statusCode, headers: responseHeaders, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

/** POSTs a form to an endpoint and returns status, headers and the JSON body. */
export async function postForm(url: string, params: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<OAuthResponse> {
  const form = formOf(params)
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form,
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
}
