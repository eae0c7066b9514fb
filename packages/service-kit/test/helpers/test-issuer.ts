import { mkdtempSync, rmSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { createAuthServer, parseConfig, registerClient, registerResourceServer, type AuthServer, type AuthServerConfigInput, type ClientInput } from '@meshguard/auth-server'

/** A real Meshguard authorization server on loopback, for the service kit's tests. */
export class TestIssuer {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'meshguard-issuer-'))
  readonly keyEncryptionKey = randomBytes(32).toString('base64url')
  readonly #secrets = new Map<string, string>()
  server!: AuthServer
  issuer = ''

  /** Starts (or restarts, on the same data directory) on `port`; 0 picks one. */
  async start(port = 0, config: AuthServerConfigInput = {}): Promise<this> {
    this.server = await createAuthServer(
      parseConfig({ port, dataDir: this.dataDir, keyEncryptionKey: this.keyEncryptionKey, log: { level: 'silent' }, ...config }),
      { logger: pino({ level: 'silent' }) },
    )
    this.issuer = await this.server.listen()
    return this
  }

  get port(): number {
    return Number(new URL(this.issuer).port)
  }

  async resource(id: string, scopes: string[]): Promise<void> {
    await registerResourceServer(this.server.context.store, { id, scopes }, 1)
  }

  async client(input: ClientInput): Promise<void> {
    this.#secrets.set(input.id, (await registerClient(this.server.context.store, input, 1)).secret!)
  }

  /** A token from the token endpoint, authenticating as `client`. */
  async token(client: string, body: Record<string, string>): Promise<string> {
    const response = await this.#post('/oauth2/token', client, body)
    return ((await response.json()) as { access_token: string }).access_token
  }

  async revoke(client: string, token: string): Promise<void> {
    await this.#post('/oauth2/revoke', client, { token })
  }

  stop(): Promise<void> {
    return this.server.close()
  }

  cleanup(): void {
    rmSync(this.dataDir, { recursive: true, force: true })
  }

  #post(path: string, client: string, body: Record<string, string>): Promise<Response> {
    return fetch(`${this.issuer}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client}:${this.#secrets.get(client)!}`).toString('base64')}`,
      },
      body: new URLSearchParams(body),
    })
  }
}
