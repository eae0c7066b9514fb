import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { connect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Metadata, status, type ServiceError } from '@grpc/grpc-js'
import { grpcDemoClient } from '@meshguard/examples'
import { createMtlsAgent, WorkloadIdentity } from '@meshguard/service-kit/tls'
import { mtlsChannelCredentials } from '@meshguard/service-kit/tls/grpc'
import { credentials as grpcCredentials } from '@grpc/grpc-js'
import { request } from 'undici'

const CLI = resolve(import.meta.dirname, '../packages/cli/dist/main.js')
const RUN_SERVICE = resolve(import.meta.dirname, '../examples/dist/run-service.js')

interface DemoFile {
  tier: 'low' | 'medium' | 'high'
  issuer: string
  gateway: string
  caBundle: string
  clients: Array<{ client_id: string; client_secret?: string; type: string; scope: string; token_format: string; redirect_uris?: string[] }>
  users: Array<{ username: string; password: string }>
  services: Array<{ name: string; url: string; spiffeId: string; scopes: string[]; route: string; example: { method: string; path: string; internalPath: string; body?: unknown } }>
  grpc: { address: string; spiffeId: string; protoDir: string; services: string[]; clientCert: string; clientKey: string }
}

interface Mesh {
  dir: string
  process: ChildProcess
  demo: DemoFile
  output: string[]
}

async function up(tier: DemoFile['tier'], portBase: number, dir = mkdtempSync(join(tmpdir(), `meshguard-up-${tier}-`))): Promise<Mesh> {
  const child = spawn(process.execPath, [CLI, 'up', '--tier', tier, '--data-dir', dir, '--port-base', String(portBase)], { stdio: ['ignore', 'pipe', 'pipe'] })
  const output: string[] = []
  await new Promise<void>((resolveUp, reject) => {
    const timer = setTimeout(() => { reject(new Error(`meshguard up --tier ${tier} did not come up:\n${output.join('')}`)); }, 120_000)
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString())
      if (output.join('').includes('demo mesh is up')) {
        clearTimeout(timer)
        resolveUp()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`meshguard up exited with ${code}:\n${output.join('')}`))
    })
  })
  return { dir, process: child, output, demo: JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as DemoFile }
}

/** SIGTERM, as Ctrl-C would; the data directory is removed unless kept. */
async function down(mesh: Mesh | undefined, keep = false): Promise<void> {
  if (mesh === undefined) return
  if (mesh.process.exitCode === null) {
    const exited = new Promise((done) => mesh.process.once('exit', done))
    mesh.process.kill('SIGTERM')
    await exited
  }
  if (!keep) rmSync(mesh.dir, { recursive: true, force: true })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function client(demo: DemoFile, id: string) {
  const found = demo.clients.find((candidate) => candidate.client_id === id)
  if (found === undefined) throw new Error(`demo.json has no client ${id}`)
  return found
}

async function token(demo: DemoFile, clientId: string, scope?: string): Promise<string> {
  const { client_secret: secret = '' } = client(demo, clientId)
  const response = await request(`${demo.issuer}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope && { scope }) }).toString(),
  })
  const body = (await response.body.json()) as { access_token: string }
  expect(response.statusCode).toBe(200)
  return body.access_token
}

async function revoke(demo: DemoFile, clientId: string, value: string): Promise<void> {
  const { client_secret: secret = '' } = client(demo, clientId)
  const response = await request(`${demo.issuer}/oauth2/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ token: value }).toString(),
  })
  expect(response.statusCode).toBe(200)
}

async function viaGateway(demo: DemoFile, method: string, path: string, bearer: string | undefined, body?: unknown) {
  const response = await request(`${demo.gateway}${path}`, {
    method,
    headers: { ...(bearer && { authorization: `Bearer ${bearer}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await response.body.text()
  // The services' answers are walked hop by hop below; their shapes are the examples' own.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.statusCode, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, any>) : {} }
}

/** A workload identity of the mesh, by name, from the data directory. */
function workload(mesh: Mesh, name: string): Promise<WorkloadIdentity> {
  return WorkloadIdentity.fromFiles({
    certificateChain: join(mesh.dir, 'workloads', `${name}.pem`),
    privateKey: join(mesh.dir, 'workloads', `${name}.key.pem`),
    trustBundle: mesh.demo.caBundle,
  })
}

describe.each([
  ['low', 14_100],
  ['medium', 14_200],
  ['high', 14_300],
] as const)('meshguard up --tier %s', (tier, portBase) => {
  let mesh: Mesh | undefined
  const demo = () => mesh!.demo

  beforeAll(async () => {
    mesh = await up(tier, portBase)
  }, 150_000)
  afterAll(async () => down(mesh), 30_000)

  it('writes a demo.json that matches what runs', async () => {
    const { demo: file } = mesh!
    expect(file).toMatchObject({ tier, issuer: `http://127.0.0.1:${portBase}`, gateway: `http://127.0.0.1:${portBase + 10}` })
    expect(file.clients.filter((c) => c.type === 'service' && c.client_secret && c.token_format === 'jwt').length).toBeGreaterThan(0)
    expect(file.clients.filter((c) => c.type === 'service' && c.client_secret && c.token_format === 'reference').length).toBeGreaterThan(0)
    expect(file.clients.some((c) => (c.type === 'web' || c.type === 'spa') && c.redirect_uris?.some((uri) => uri.startsWith('http://127.0.0.1:')))).toBe(true)
    const discovery = (await (await fetch(`${file.issuer}/.well-known/openid-configuration`)).json()) as { issuer: string }
    expect(discovery.issuer).toBe(file.issuer)
    // Each service answers at its internal URL, over the transport its tier promises, as the gateway would reach it.
    const gateway = tier === 'low' ? undefined : await workload(mesh!, 'gateway')
    for (const service of file.services) {
      expect(service.url.startsWith(tier === 'low' ? 'http://' : 'https://')).toBe(true)
      const dispatcher = gateway && createMtlsAgent(gateway, { expect: [service.spiffeId], tier })
      const response = await request(`${service.url}/health`, { ...(dispatcher && { dispatcher }) })
      expect(response.statusCode).toBe(200)
      await response.body.dump()
      await dispatcher?.close()
    }
  })

  it("runs seed 004's graph with the right tokens at each hop, and answers 403 when a scope is missing", async () => {
    const reader = await token(demo(), 'demo-reader')
    const summary = await viaGateway(demo(), 'GET', '/a/summary', reader)
    expect(summary.status).toBe(200)
    expect(summary.body.saw).toMatchObject({ service: 'api-a', clientId: 'demo-reader' })
    const b = summary.body.downstream['api-b']
    const c = summary.body.downstream['api-c']
    expect(b.status).toBe(200)
    expect(c.status).toBe(200)
    for (const hop of [b.body.saw, c.body.saw]) expect(hop).toMatchObject({ clientId: 'demo-reader', forwarded: true, scopeToken: { clientId: 'api-a' } })
    const d = b.body.downstream['api-d']
    expect(d.body.saw).toMatchObject({ service: 'api-d', clientId: 'demo-reader', scopeToken: { clientId: 'api-b' } })
    if (tier === 'high') expect(b.body.saw.scopeToken.certificateBound).toBe(true)

    // A token for api-a without a.r: the gateway forwards it (right audience), api-a refuses it.
    const withoutRead = await token(demo(), 'demo-client', 'a.w')
    const refused = await viaGateway(demo(), 'GET', '/a/summary', withoutRead)
    expect(refused.status).toBe(403)
    expect(String(refused.headers['www-authenticate'])).toContain('insufficient_scope')
    // A token for another service altogether is refused at the edge.
    const elsewhere = await viaGateway(demo(), 'GET', '/a/summary', await token(demo(), 'demo-client', 'cart.w'))
    expect(elsewhere.status).toBe(401)
    expect((await viaGateway(demo(), 'GET', '/a/summary', undefined)).status).toBe(401)
  })

  it('holds the chain rule: cart → order → payment passes, cart → payment is refused', async () => {
    const shopper = await token(demo(), 'demo-shopper')
    const checkout = await viaGateway(demo(), 'POST', '/cart/carts/c-1001/checkout', shopper, { paymentMethod: 'card' })
    expect(checkout.status).toBe(201)
    const payment = checkout.body.downstream['order-service'].body.downstream['payment-service']
    expect(payment.status).toBe(201)
    expect(payment.body.saw.act).toEqual(['order-service', 'cart-service'])
    const direct = await viaGateway(demo(), 'POST', '/cart/carts/c-1001/pay-directly', shopper, { paymentMethod: 'card' })
    expect(direct.status).toBe(403)
  })

  it('runs a gRPC stream and cuts it with UNAUTHENTICATED once its token is revoked', async () => {
    const channel = tier === 'low' ? grpcCredentials.createInsecure() : mtlsChannelCredentials(await workload(mesh!, 'demo-caller'), { expect: [demo().grpc.spiffeId], tier })
    const grpc = grpcDemoClient(demo().grpc.address, { credentials: channel })
    const streamToken = await token(demo(), 'demo-client')
    const metadata = new Metadata()
    metadata.set('authorization', `Bearer ${streamToken}`)
    try {
      const stream = grpc.sensors.Feed({ sensor_id: 'greenhouse-temperature', interval_ms: 50 }, metadata)
      let received = 0
      const ended = new Promise<ServiceError>((done) => {
        stream.on('data', () => {
          received += 1
          if (received === 3) void revoke(demo(), 'demo-client', streamToken)
        })
        stream.on('error', (err: ServiceError) => { done(err); })
      })
      const err = await ended
      expect(received).toBeGreaterThanOrEqual(3)
      expect(err.code).toBe(status.UNAUTHENTICATED)
    } finally {
      grpc.close()
    }
  })

  if (tier === 'low') {
    it('drives every flow with `meshguard demo traffic`, each call coming out as the tier promises', async () => {
      const result = await new Promise<{ code: number | null; output: string }>((done) => {
        const child = spawn(process.execPath, [CLI, 'demo', 'traffic', '--data-dir', mesh!.dir, '--seconds', '2'], { stdio: ['ignore', 'pipe', 'pipe'] })
        let output = ''
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
        child.once('exit', (code) => {
          done({ code, output })
        })
      })
      expect(result.output).toMatch(/\d+ calls: \d+ allowed, \d+ denied/)
      expect(result.output).toMatch(/api-a: jwt +allowed +200/)
      expect(result.output).toMatch(/api-a: missing scope +denied +403 insufficient_scope/)
      expect(result.output).toMatch(/api-a: revoked token +denied +401 invalid_token/)
      expect(result.output).toMatch(/payment-service: jwt \(needs the chain order-service <- cart-service\) +denied +403 access_denied/)
      expect(result.output).toMatch(/gRPC without a token +denied +UNAUTHENTICATED/)
      expect(result.output).not.toContain('UNEXPECTED')
      expect(result.code).toBe(0)
    })

    it('stops every process on SIGTERM, and a second start reuses the data directory', async () => {
      const first = mesh!
      const pids = Object.values(JSON.parse(readFileSync(join(first.dir, 'mesh', 'pids.json'), 'utf8')) as Record<string, number>)
      const jwks = await (await fetch(`${first.demo.issuer}/.well-known/jwks.json`)).text()
      await down(first, true)
      expect(pids.filter(alive)).toEqual([])
      mesh = await up(tier, portBase, first.dir)
      expect(mesh.demo.clients).toEqual(first.demo.clients)
      expect(mesh.demo.users).toEqual(first.demo.users)
      expect(mesh.output.join('')).not.toContain('issued workload certificates')
      expect(await (await fetch(`${mesh.demo.issuer}/.well-known/jwks.json`)).text()).toBe(jwks)
      expect((await viaGateway(mesh.demo, 'GET', '/a/summary', await token(mesh.demo, 'demo-reader'))).status).toBe(200)
    })
  }

  if (tier === 'high') {
    it('refuses a plain-HTTP call inside, and a TLS connection without an allowed client certificate', async () => {
      const service = demo().services[0]!
      const plainUrl = service.url.replace('https://', 'http://')
      await expect(request(`${plainUrl}/health`, { headersTimeout: 3000, bodyTimeout: 3000 }).then(async (r) => { await r.body.dump(); return r.statusCode })).rejects.toThrow()
      // A workload of the mesh that is not among the service's callers is refused at the handshake.
      const outsider = createMtlsAgent(await workload(mesh!, 'demo-caller'), { expect: [service.spiffeId], tier })
      await expect(request(`${service.url}/health`, { dispatcher: outsider }).then((r) => r.body.dump())).rejects.toThrow()
      await outsider.close()
      const port = Number(new URL(service.url).port)
      const alert = await new Promise<string>((done) => {
        const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(demo().caBundle), checkServerIdentity: () => undefined })
        socket.on('secureConnect', () => socket.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n'))
        socket.on('error', (err) => { done(err.message); })
        socket.on('data', (data: Buffer) => { done(`answered: ${data.toString().slice(0, 20)}`); })
        socket.on('close', () => { done('closed'); })
      })
      expect(alert).not.toMatch(/^answered: HTTP\/1\.1 200/)
    })

    it('refuses to start a service whose configuration is weaker than its tier', async () => {
      const configFile = join(mesh!.dir, 'mesh', 'api-c.json')
      const weak = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>
      delete weak.tls
      weak.port = 0
      const weakFile = join(mesh!.dir, 'weak.json')
      writeFileSync(weakFile, JSON.stringify(weak))
      const result = await new Promise<{ code: number | null; output: string }>((done) => {
        const child = spawn(process.execPath, [RUN_SERVICE, weakFile], { stdio: ['ignore', 'pipe', 'pipe'] })
        let output = ''
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
        child.once('exit', (code) => { done({ code, output }); })
      })
      expect(result.code).not.toBe(0)
      expect(result.output).toContain('the high tier requires mutual TLS')
    })

    it('restarts a crashed service and reports it', async () => {
      const pids = () => JSON.parse(readFileSync(join(mesh!.dir, 'mesh', 'pids.json'), 'utf8')) as Record<string, number>
      const before = pids()['api-c']!
      process.kill(before, 'SIGKILL')
      const deadline = Date.now() + 20_000
      while (Date.now() < deadline && pids()['api-c'] === before) await new Promise((done) => setTimeout(done, 200))
      expect(pids()['api-c']).not.toBe(before)
      expect(mesh!.output.join('')).toContain('api-c stopped unexpectedly')
      const reader = await token(demo(), 'demo-reader')
      let status = 0
      while (Date.now() < deadline && status !== 200) {
        status = (await viaGateway(demo(), 'GET', '/a/summary', reader)).status
        if (status !== 200) await new Promise((done) => setTimeout(done, 300))
      }
      expect(status).toBe(200)
    })
  }
})
