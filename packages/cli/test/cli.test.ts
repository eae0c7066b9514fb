import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const BIN = resolve(import.meta.dirname, '../bin/meshguard.js')

interface Run {
  code: number
  stdout: string
  stderr: string
}

function meshguard(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
    })
  })
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => {
        done(port)
      })
    })
    server.on('error', fail)
  })
}

async function waitUntilReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100))
  }
  throw new Error(`server at ${url} did not become ready`)
}

/** The `meshguard` binary as a user runs it: a server process, and commands beside it on the same data directory. */
describe('meshguard CLI', () => {
  let dataDir: string
  let issuer: string
  let server: ChildProcess
  const state = () => ['--data-dir', dataDir, '--config', join(dataDir, 'meshguard.json')]

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'meshguard-cli-'))
    writeFileSync(join(dataDir, 'meshguard.json'), JSON.stringify({ signing: { reloadIntervalSec: 1 }, log: { level: 'warn' } }))
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}`
    server = spawn(process.execPath, [BIN, 'auth-server', ...state(), '--port', String(port)], { stdio: 'ignore' })
    await waitUntilReady(issuer)
  })
  afterAll(() => {
    server.kill('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  })

  let secret: string

  it('registers a resource server and a client while the server runs; the client gets a token at once', async () => {
    const resource = await meshguard(['resource', 'create', ...state(), '--id', 'orders', '--scope', 'orders.read orders.write'])
    expect(resource).toMatchObject({ code: 0, stdout: 'resource server orders defines: orders.read orders.write\n' })

    const created = await meshguard(['client', 'create', ...state(), '--id', 'shop', '--scope', 'orders.read', '--grant', 'client_credentials', '--grant', 'urn:ietf:params:oauth:grant-type:token-exchange', '--json'])
    expect(created.code).toBe(0)
    const record = JSON.parse(created.stdout) as { client_id: string; client_secret: string; grant_types: string[] }
    expect(record.client_id).toBe('shop')
    expect(record.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(record.grant_types).toEqual(['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'])
    secret = record.client_secret

    const token = await meshguard(['token', '--client', 'shop', '--issuer', issuer], { MESHGUARD_CLIENT_SECRET: secret })
    expect(token.code).toBe(0)
    expect(token.stdout.trim().split('.')).toHaveLength(3)

    const verified = await meshguard(['jwt', 'verify', token.stdout.trim(), '--issuer', issuer, '--audience', 'orders'])
    expect(verified.code).toBe(0)
    expect(verified.stdout).toMatch(/signature valid \(kid .+, alg ES256\)/)
  })

  it('lists clients without their secret hashes', async () => {
    const list = await meshguard(['client', 'list', ...state(), '--json'])
    expect(list.code).toBe(0)
    expect(list.stdout).not.toContain('sha256$')
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ client_id: 'shop', type: 'service', auth: 'client_secret', scope: 'orders.read', redirect_uris: [] })])
  })

  it('registers a tls_client_auth client by its SPIFFE ID, printing no secret', async () => {
    const spiffeId = 'spiffe://example.org/ns/shop/sa/orders'
    const created = await meshguard(['client', 'create', ...state(), '--id', 'orders-workload', '--scope', 'orders.read', '--tls-client-auth', spiffeId])
    expect(created).toMatchObject({ code: 0, stderr: '' })
    expect(created.stdout).toBe(`client orders-workload\n  type:   service\n  scope:  orders.read\n  grants: client_credentials\n  authenticates with tls_client_auth: a certificate for ${spiffeId}\n`)

    const json = await meshguard(['client', 'create', ...state(), '--id', 'payments-workload', '--scope', 'orders.read', '--tls-client-auth', 'spiffe://example.org/ns/shop/sa/payments', '--json'])
    expect(json.code).toBe(0)
    const record = JSON.parse(json.stdout) as Record<string, unknown>
    expect(record).not.toHaveProperty('client_secret')
    expect(record).toMatchObject({ client_id: 'payments-workload', auth: 'tls_client_auth', tls_client_auth_san_uri: 'spiffe://example.org/ns/shop/sa/payments' })

    const list = JSON.parse((await meshguard(['client', 'list', ...state(), '--json'])).stdout) as Array<Record<string, unknown>>
    expect(list.find((client) => client.client_id === 'orders-workload')).toMatchObject({ auth: 'tls_client_auth', tls_client_auth_san_uri: spiffeId })
  })

  it('registers a reference-token client and a phantom-token gateway; the gateway swaps the opaque token for its JWT', async () => {
    const web = await meshguard(['client', 'create', ...state(), '--id', 'web', '--scope', 'orders.read', '--token-format', 'reference'])
    expect(web).toMatchObject({ code: 0, stderr: '' })
    expect(web.stdout).toMatch(/^client web\n {2}type: {3}service\n {2}scope: {2}orders\.read\n {2}grants: client_credentials\n {2}tokens: reference \(opaque tokens; the JWTs stay on the server\)\n {2}secret: /)
    const webSecret = /secret: (\S+)/.exec(web.stdout)![1]!

    const gateway = await meshguard(['client', 'create', ...state(), '--id', 'edge-gateway', '--phantom-tokens', '--json'])
    expect(gateway.code).toBe(0)
    const record = JSON.parse(gateway.stdout) as { client_secret: string }
    expect(record).toMatchObject({ client_id: 'edge-gateway', token_format: 'jwt', phantom_tokens: true })

    const token = await meshguard(['token', '--client', 'web', '--issuer', issuer], { MESHGUARD_CLIENT_SECRET: webSecret })
    expect(token.stdout).toMatch(/^mgat_[A-Za-z0-9_-]{43}\n$/)
    const swapped = await fetch(`${issuer}/oauth2/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/jwt',
        authorization: `Basic ${Buffer.from(`edge-gateway:${record.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: token.stdout.trim() }),
    })
    expect(swapped.headers.get('content-type')).toBe('application/jwt')
    const verified = await meshguard(['jwt', 'verify', await swapped.text(), '--issuer', issuer])
    expect(verified.code).toBe(0)

    const lines = (await meshguard(['client', 'list', ...state()])).stdout.split('\n')
    expect(lines).toContain('web\tservice\tclient_secret\tclient_credentials\torders.read\treference')
    expect(lines).toContain('edge-gateway\tservice\tclient_secret\tclient_credentials\t\tjwt\tphantom-tokens')
    const list = JSON.parse((await meshguard(['client', 'list', ...state(), '--json'])).stdout) as Array<Record<string, unknown>>
    expect(list.find((client) => client.client_id === 'web')).toMatchObject({ token_format: 'reference', phantom_tokens: false })
  })

  it('registers a spa client with its redirect URIs and no secret, and a native one as JSON', async () => {
    const spa = await meshguard([
      'client', 'create', ...state(), '--id', 'shop-spa', '--type', 'spa', '--scope', 'openid profile orders.read',
      '--redirect-uri', 'https://shop.example.com/callback', '--redirect-uri', 'http://localhost:5173/callback',
      '--post-logout-redirect-uri', 'https://shop.example.com/',
    ])
    expect(spa).toMatchObject({ code: 0, stderr: '' })
    expect(spa.stdout).toBe(
      [
        'client shop-spa',
        '  type:   spa',
        '  scope:  openid profile orders.read',
        '  grants: authorization_code refresh_token',
        '  redirect URI: https://shop.example.com/callback',
        '  redirect URI: http://localhost:5173/callback',
        '  post-logout redirect URI: https://shop.example.com/',
        '  no secret: a public client proves itself with PKCE (RFC 7636)',
        '',
      ].join('\n'),
    )

    const native = await meshguard(['client', 'create', ...state(), '--id', 'shop-app', '--type', 'native', '--scope', 'openid offline_access', '--redirect-uri', 'com.example.shop:/callback', '--redirect-uri', 'http://127.0.0.1/callback', '--json'])
    expect(native.code).toBe(0)
    const record = JSON.parse(native.stdout) as Record<string, unknown>
    expect(record).not.toHaveProperty('client_secret')
    expect(record).toMatchObject({ client_id: 'shop-app', type: 'native', auth: 'none', redirect_uris: ['com.example.shop:/callback', 'http://127.0.0.1/callback'], post_logout_redirect_uris: [] })

    const lines = (await meshguard(['client', 'list', ...state()])).stdout.split('\n')
    expect(lines).toContain('shop-spa\tspa\tnone\tauthorization_code,refresh_token\topenid profile orders.read\tjwt')
    const list = JSON.parse((await meshguard(['client', 'list', ...state(), '--json'])).stdout) as Array<Record<string, unknown>>
    expect(list.find((client) => client.client_id === 'shop-spa')).toMatchObject({
      type: 'spa',
      auth: 'none',
      redirect_uris: ['https://shop.example.com/callback', 'http://localhost:5173/callback'],
      post_logout_redirect_uris: ['https://shop.example.com/'],
    })
  })

  it.each([
    ['an unknown token format', ['client', 'create', '--id', 'x', '--scope', 'orders.read', '--token-format', 'paseto'], /token format "paseto" is not supported \(supported: jwt, reference\)/],
    ['a tls_client_auth ID that is not a SPIFFE ID', ['client', 'create', '--id', 'x', '--scope', 'orders.read', '--tls-client-auth', 'orders'], /tls_client_auth_san_uri "orders" is not a SPIFFE ID/],
    ['a tls_client_auth ID and a secret', ['client', 'create', '--id', 'x', '--scope', 'orders.read', '--tls-client-auth', 'spiffe://example.org/ns/shop/sa/x', '--secret', 'x'.repeat(40)], /give one of a secret, keys or a tls_client_auth SPIFFE ID/],
    ['a scope no resource server defines', ['client', 'create', '--id', 'x', '--scope', 'nope.read'], /scopes not defined by any resource server: nope\.read/],
    ['a short secret', ['client', 'create', '--id', 'x', '--scope', 'orders.read', '--secret', 'hunter2'], /secret must be at least 32 characters/],
    ['an unknown grant', ['client', 'create', '--id', 'x', '--scope', 'orders.read', '--grant', 'password'], /grant "password" is not supported/],
    ['an unknown client type', ['client', 'create', '--id', 'x', '--type', 'mobile', '--redirect-uri', 'https://x.example.com/cb'], 'client type "mobile" is not supported (supported: service, web, spa, native)'],
    ['a secret for a spa client', ['client', 'create', '--id', 'x', '--type', 'spa', '--redirect-uri', 'https://x.example.com/cb', '--secret', 'x'.repeat(40)], 'a spa client is public (RFC 6749 §2.1): it takes no secret'],
    ['a web client without a redirect URI', ['client', 'create', '--id', 'x', '--type', 'web'], 'a web client needs at least one redirect URI'],
    ['a redirect URI for a service client', ['client', 'create', '--id', 'x', '--redirect-uri', 'https://x.example.com/cb'], 'a service client has no user to send back: it takes no redirect URIs'],
    ['a duplicate client', ['client', 'create', '--id', 'shop', '--scope', 'orders.read'], /shop/],
    ['a scope another resource server defines', ['resource', 'create', '--id', 'other', '--scope', 'orders.read'], /orders\.read/],
    ['deleting an unknown client', ['client', 'delete', '--id', 'ghost'], /no client "ghost"/],
  ])('refuses %s with a sentence and exit code 1', async (_name, args, message) => {
    const run = await meshguard([...args, ...state()])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^meshguard: /)
    expect(run.stderr).toMatch(message)
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })

  it('refuses a wildcard redirect URI, naming the rule', async () => {
    const run = await meshguard(['client', 'create', ...state(), '--id', 'x', '--type', 'spa', '--redirect-uri', 'https://*.example.com/callback'])
    expect(run).toEqual({ code: 1, stdout: '', stderr: 'meshguard: redirect URI "https://*.example.com/callback" must not contain a wildcard "*" (RFC 9700 §4.1.3)\n' })
  })

  it('refuses to serve an http issuer that is not loopback', async () => {
    const run = await meshguard(['auth-server', ...state(), '--port', '0', '--issuer', 'http://auth.example.com'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('issuer: must use https unless the host is loopback')
  })

  it('lists keys, refuses an early rotation, and rotates at once with --now', async () => {
    const before = JSON.parse((await meshguard(['keys', 'list', ...state(), '--json'])).stdout) as Array<{ kid: string; state: string }>
    expect(before.map((key) => key.state).sort()).toEqual(['active', 'next'])

    const early = await meshguard(['keys', 'rotate', ...state()])
    expect(early.code).toBe(1)
    expect(early.stderr).toContain('has not been published for 900 seconds yet')

    const token = (await meshguard(['token', '--client', 'shop', '--issuer', issuer], { MESHGUARD_CLIENT_SECRET: secret })).stdout.trim()
    const now = await meshguard(['keys', 'rotate', ...state(), '--now'])
    expect(now.code).toBe(0)
    const dropped = before.find((key) => key.state === 'active')!.kid
    expect(now.stdout).toContain(`dropped ${dropped}`)

    // The running server picks up the rotation from the store within its reload interval.
    let kids: string[] = []
    for (let attempt = 0; attempt < 50 && (kids.length === 0 || kids.includes(dropped)); attempt += 1) {
      await new Promise((done) => setTimeout(done, 100))
      kids = ((await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid)
    }
    expect(kids).not.toContain(dropped)
    const verify = await meshguard(['jwt', 'verify', token, '--issuer', issuer])
    expect(verify.code).toBe(1)
    expect(verify.stderr).toContain('no matching key')
  })

  it('deleting a client stops it obtaining tokens', async () => {
    expect((await meshguard(['client', 'delete', ...state(), '--id', 'shop'])).code).toBe(0)
    // The server re-reads clients every second (state.refreshIntervalSec).
    await new Promise((done) => setTimeout(done, 1500))
    const token = await meshguard(['token', '--client', 'shop', '--issuer', issuer], { MESHGUARD_CLIENT_SECRET: secret })
    expect(token.code).toBe(1)
    expect(token.stderr).toBe('meshguard: token request refused (invalid_client: client authentication failed)\n')
  })
})
