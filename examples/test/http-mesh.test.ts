import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { Agent, request, type Dispatcher } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCa, newWorkloadKey, type CertificateAuthority } from '@meshguard/pki'
import { createMtlsAgent, WorkloadIdentity } from '@meshguard/service-kit/tls'
import { basic, postForm, postFormVia, startTestServer, type TestServer } from '../../packages/auth-server/test/helpers/test-server.js'
import { callersOf, httpServices, inStartOrder, meshRegistrations, serviceSpiffeId, type HttpServicePlan } from '../src/mesh-plan.js'
import { startHttpService } from '../src/http/start-http-service.js'
import type { CallEvent } from '../src/runtime/call-reporter.js'
import type { RunningService, ServiceRuntimeConfig } from '../src/runtime/service-config.js'

const TRUST_DOMAIN = 'example.org'
const GATEWAY = 'spiffe://example.org/meshguard/gateway'
const AUTH_SERVER = 'spiffe://example.org/meshguard/auth-server'
const BOUND_ELSEWHERE = 'the token is bound to a client certificate this connection does not present'
const CHAIN_REFUSED = 'this operation accepts only calls through order-service acting for cart-service'
const silent = pino({ level: 'silent' })
const spiffeIdOf = (name: string) => serviceSpiffeId(TRUST_DOMAIN, name)

type Tier = 'low' | 'medium' | 'high'

interface Workload {
  files: { certFile: string; keyFile: string; caFile: string }
  identity: WorkloadIdentity
}

interface Reply {
  status: number
  body: Record<string, unknown>
}

let dir: string
let ca: CertificateAuthority
const workloads = new Map<string, Workload>()

/** A workload certificate from the test CA, written where a service's configuration points. */
async function workload(name: string, spiffeId: string): Promise<Workload> {
  const { keyPem, csrPem } = await newWorkloadKey(spiffeId)
  const issued = await ca.issue({ csr: csrPem, identity: spiffeId, ttlSec: 3600 })
  const files = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`), caFile: join(dir, 'bundle.pem') }
  writeFileSync(files.certFile, issued.chainPem)
  writeFileSync(files.keyFile, keyPem, { mode: 0o600 })
  return { files, identity: new WorkloadIdentity({ certificateChainPem: issued.chainPem, privateKeyPem: keyPem, trustBundlePem: ca.trustBundlePem }) }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshguard-examples-'))
  ca = await initCa({ dir: join(dir, 'ca'), trustDomain: TRUST_DOMAIN, passphrase: randomBytes(16).toString('hex') })
  writeFileSync(join(dir, 'bundle.pem'), ca.trustBundlePem)
  for (const plan of httpServices) workloads.set(plan.name, await workload(plan.name, spiffeIdOf(plan.name)))
  workloads.set('gateway', await workload('gateway', GATEWAY))
  workloads.set('auth-server', await workload('auth-server', AUTH_SERVER))
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** One mesh per tier: an authorization server registered from the plan, and the seven services. */
class Mesh {
  readonly services = new Map<string, RunningService>()
  readonly secrets = new Map<string, string>()
  readonly dispatchers: Dispatcher[] = []
  auth!: TestServer
  /** How the tests reach the services: as the gateway would. */
  gateway: Dispatcher | undefined

  constructor(readonly tier: Tier) {}

  async start(): Promise<void> {
    const server = workloads.get('auth-server')!.files
    this.auth = await startTestServer({
      config: this.tier === 'high' ? { mtls: { port: 0, certFile: server.certFile, keyFile: server.keyFile, caFile: server.caFile } } : {},
    })
    const { resourceServers, serviceClients, callerClients } = meshRegistrations({ tier: this.tier, trustDomain: TRUST_DOMAIN })
    for (const resource of resourceServers) await this.auth.resource(resource.id, [...resource.scopes])
    // A caller holding a token addressed to api-a, but not a.r.
    const extra = [{ id: 'test-writer', type: 'service' as const, scopes: ['a.w'], grantTypes: ['client_credentials'] }]
    for (const client of [...serviceClients, ...callerClients, ...extra]) {
      const secret = await this.auth.client(client)
      if (secret !== undefined) this.secrets.set(client.id, secret)
    }
    for (const plan of inStartOrder(httpServices)) this.services.set(plan.name, await startHttpService(plan, this.config(plan), { logger: silent }))
    if (this.tier !== 'low') this.gateway = this.agentOf('gateway')
  }

  config(plan: HttpServicePlan): ServiceRuntimeConfig {
    const { tier, auth } = this
    return {
      name: plan.name,
      tier,
      host: '127.0.0.1',
      port: 0,
      issuer: auth.issuer,
      jwksUri: auth.jwksUri,
      revocationEventsUri: `${auth.baseUrl}/oauth2/revocations/events`,
      tokenEndpoint: tier === 'high' ? auth.mtls!.tokenEndpoint : auth.tokenEndpoint,
      clientSecret: this.secrets.get(plan.name),
      tls: tier === 'low' ? undefined : workloads.get(plan.name)!.files,
      spiffeId: tier === 'low' ? undefined : spiffeIdOf(plan.name),
      peers: Object.fromEntries(plan.peers.map((peer) => [peer, { url: this.services.get(peer)!.address, spiffeId: tier === 'low' ? undefined : spiffeIdOf(peer) }])),
      allowedCallers: tier === 'high' ? [...callersOf(plan.name).map(spiffeIdOf), GATEWAY] : undefined,
      authServerSpiffeId: tier === 'high' ? AUTH_SERVER : undefined,
      auditUri: undefined,
    }
  }

  /** Presents `workload`'s certificate and expects any service of the mesh. */
  agentOf(workload: string): Dispatcher {
    const agent = createMtlsAgent(workloads.get(workload)!.identity, { expect: [...httpServices.map((plan) => spiffeIdOf(plan.name)), AUTH_SERVER] })
    this.dispatchers.push(agent)
    return agent
  }

  async token(client: string, scope: string): Promise<string> {
    const response = await postForm(this.auth.tokenEndpoint, { grant_type: 'client_credentials', scope }, { authorization: basic(client, this.secrets.get(client)!) })
    expect(response.status).toBe(200)
    return response.body.access_token as string
  }

  url(service: string, path: string): string {
    return `${this.services.get(service)!.address}${path}`
  }

  async send(
    service: string,
    method: 'GET' | 'POST',
    path: string,
    token: string,
    options: { body?: unknown; dispatcher?: Dispatcher | undefined; scopeToken?: string | undefined; url?: string | undefined } = {},
  ): Promise<Reply> {
    const response = await request(options.url ?? this.url(service, path), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(options.scopeToken !== undefined && { 'x-scope-token': options.scopeToken }),
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      dispatcher: options.dispatcher ?? this.gateway,
    })
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> }
  }

  async stop(): Promise<void> {
    for (const service of [...this.services.values()].reverse()) await service.close()
    await Promise.all(this.dispatchers.map((dispatcher) => dispatcher.close()))
    await this.auth.stop()
    this.auth.cleanup()
  }
}

/** A nested member of a JSON answer. */
function at(value: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value)
}

describe.each(['low', 'medium', 'high'] as const)('the demo mesh on the %s tier', (tier) => {
  const mesh = new Mesh(tier)
  const bound = tier === 'high'

  beforeAll(async () => {
    await mesh.start()
  })
  afterAll(async () => {
    await mesh.stop()
  })

  it("serves api-a's summary with the right tokens at every hop (seed 004)", async () => {
    const reply = await mesh.send('api-a', 'GET', '/summary', await mesh.token('demo-reader', 'a.r'))
    expect(reply.status).toBe(200)
    const caller = { subject: 'demo-reader', clientId: 'demo-reader', act: [] }
    // A: the caller itself, its a.r granting the call.
    expect(reply.body.saw).toMatchObject({ service: 'api-a', ...caller, scopes: ['a.r'], forwarded: false, grantedBy: 'caller', scopeToken: null })
    // B and C: the caller's identity from Authorization, A's scopes from X-Scope-Token.
    for (const [service, scope] of [['api-b', 'b.r'], ['api-c', 'c.r']] as const) {
      expect(at(reply.body, 'downstream', service, 'status')).toBe(200)
      expect(at(reply.body, 'downstream', service, 'body', 'saw')).toMatchObject({
        service,
        ...caller,
        scopes: ['a.r'],
        forwarded: true,
        grantedBy: 'scope-token',
        scopeToken: { clientId: 'api-a', scopes: [scope], certificateBound: bound },
      })
    }
    // D, through B: the same caller, B's scopes.
    const d = at(reply.body, 'downstream', 'api-b', 'body', 'downstream', 'api-d')
    expect(at(d, 'status')).toBe(200)
    expect(at(d, 'body', 'saw')).toMatchObject({ service: 'api-d', ...caller, forwarded: true, grantedBy: 'scope-token', scopeToken: { clientId: 'api-b', scopes: ['d.r'], certificateBound: bound } })
    expect(reply.body.products).toContainEqual({ sku: 'tea-earl-grey', name: 'Earl Grey, 100 g', available: 42, priceCents: 650 })
  })

  it('refuses a caller without a.r with 403 insufficient_scope', async () => {
    const reply = await mesh.send('api-a', 'GET', '/summary', await mesh.token('test-writer', 'a.w'))
    expect({ status: reply.status, error: reply.body.error }).toEqual({ status: 403, error: 'insufficient_scope' })
  })

  it('checks a cart out through order-service to payment-service, each hop a token exchange', async () => {
    const reply = await mesh.send('cart-service', 'POST', '/carts/c-1001/checkout', await mesh.token('demo-shopper', 'cart.w order.w payment.w'), { body: { paymentMethod: 'card' } })
    expect(reply.status).toBe(201)
    const order = at(reply.body, 'downstream', 'order-service')
    expect(at(order, 'status')).toBe(201)
    expect(at(order, 'body', 'saw')).toMatchObject({ subject: 'demo-shopper', clientId: 'cart-service', act: ['cart-service'], certificateBound: bound })
    const payment = at(order, 'body', 'downstream', 'payment-service')
    expect(at(payment, 'status')).toBe(201)
    expect(at(payment, 'body', 'saw')).toMatchObject({ subject: 'demo-shopper', clientId: 'order-service', act: ['order-service', 'cart-service'], scopes: ['payment.w'], certificateBound: bound })
    expect(at(payment, 'body', 'payment')).toMatchObject({ amountCents: 5500, status: 'captured', payer: 'demo-shopper' })
  })

  it('refuses cart-service paying directly, past order-service, by the chain', async () => {
    const reply = await mesh.send('cart-service', 'POST', '/carts/c-1001/pay-directly', await mesh.token('demo-shopper', 'cart.w order.w payment.w'), { body: {} })
    expect(reply.status).toBe(403)
    expect(at(reply.body, 'downstream', 'payment-service')).toEqual({ service: 'payment-service', status: 403, body: { error: 'access_denied', error_description: CHAIN_REFUSED } })
  })

  it("refuses the shopper's own token at payment-service, by the chain", async () => {
    const reply = await mesh.send('payment-service', 'POST', '/payments', await mesh.token('demo-shopper', 'cart.w order.w payment.w'), { body: { orderId: 'o-1', amountCents: 1, method: 'card' } })
    expect(reply).toEqual({ status: 403, body: { error: 'access_denied', error_description: CHAIN_REFUSED } })
  })

  it('refuses a revoked token within a second', async () => {
    const token = await mesh.token('demo-reader', 'a.r')
    expect((await mesh.send('api-c', 'GET', '/prices', token)).status).toBe(401) // addressed to api-a, with no X-Scope-Token for api-c
    expect((await mesh.send('api-a', 'GET', '/summary', token)).status).toBe(200)
    const revoked = await postForm(mesh.auth.revocationEndpoint, { token }, { authorization: basic('demo-reader', mesh.secrets.get('demo-reader')!) })
    expect(revoked.status).toBe(200)
    await expect.poll(async () => (await mesh.send('api-a', 'GET', '/summary', token)).body.error_description, { timeout: 1_000, interval: 50 }).toBe('the token has been revoked')
  })

  describe.runIf(tier === 'high')('mutual TLS', () => {
    const refusedConnections: Array<[string, () => { url: string; dispatcher: Dispatcher | undefined }]> = [
      ['plain HTTP', () => ({ url: mesh.url('api-a', '/summary').replace('https:', 'http:'), dispatcher: undefined })],
      ['TLS without a client certificate', () => ({ url: mesh.url('api-a', '/summary'), dispatcher: track(new Agent({ connect: { ca: ca.trustBundlePem, checkServerIdentity: () => undefined } })) })],
      ["a mesh workload that does not call it (api-d's certificate)", () => ({ url: mesh.url('api-a', '/summary'), dispatcher: mesh.agentOf('api-d') })],
    ]
    const track = (agent: Agent) => {
      mesh.dispatchers.push(agent)
      return agent
    }

    it.each(refusedConnections)('refuses %s before any request is read', async (_name, target) => {
      const { url, dispatcher } = target()
      const token = await mesh.token('demo-reader', 'a.r')
      // The connection is closed with no HTTP answer at all.
      await expect(request(url, { headers: { authorization: `Bearer ${token}` }, dispatcher, headersTimeout: 5_000 })).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' })
    })

    it("refuses a token bound to api-a's certificate replayed from another one", async () => {
      // What api-a sends api-c: its own token for c.r, from the mutual-TLS token endpoint, bound to its certificate.
      const issued = await postFormVia(mesh.agentOf('api-a'), mesh.auth.mtls!.tokenEndpoint, { grant_type: 'client_credentials', client_id: 'api-a', scope: 'c.r', audience: 'api-c' })
      const stolen = issued.body.access_token as string
      expect(await mesh.send('api-c', 'GET', '/prices', stolen, { dispatcher: mesh.agentOf('api-a') })).toMatchObject({ status: 200, body: { saw: { clientId: 'api-a', certificateBound: true } } })
      expect(await mesh.send('api-c', 'GET', '/prices', stolen)).toEqual({ status: 401, body: { error: 'invalid_token', error_description: BOUND_ELSEWHERE } })
    })
  })

  describe.runIf(tier === 'low')('call reports', () => {
    let audit: Server
    const received: Array<{ authorization: string | undefined; body: { events: CallEvent[] } }> = []

    beforeAll(async () => {
      audit = createServer((req, res) => {
        let text = ''
        req.on('data', (chunk: Buffer) => (text += chunk.toString()))
        req.on('end', () => {
          received.push({ authorization: req.headers.authorization, body: JSON.parse(text) as { events: CallEvent[] } })
          res.writeHead(202).end()
        })
      })
      await new Promise<void>((resolve) => audit.listen(0, '127.0.0.1', resolve))
    })
    afterAll(() => {
      audit.close()
    })

    it('reports each allowed and refused call, naming the hop that made it', async () => {
      const plan = httpServices.find((service) => service.name === 'api-c')!
      const auditUri = `http://127.0.0.1:${(audit.address() as AddressInfo).port}/audit/events`
      const reporting = await startHttpService(plan, { ...mesh.config(plan), auditUri }, { logger: silent })
      const user = await mesh.token('demo-reader', 'a.r')
      const url = `${reporting.address}/prices?currency=EUR`
      expect((await mesh.send('api-c', 'GET', '', user, { url, scopeToken: await mesh.token('api-a', 'c.r') })).status).toBe(200)
      expect((await mesh.send('api-c', 'GET', '', user, { url })).status).toBe(401)
      await reporting.close()
      expect(received).toHaveLength(1)
      expect(received[0]!.authorization).toBe(basic('api-c', mesh.secrets.get('api-c')!))
      const call = { service: 'api-c', subject: 'demo-reader', act: null, method: 'GET', path: '/prices' }
      expect(received[0]!.body.events).toEqual([
        { ts: expect.any(Number) as number, decision: 'allow', caller: 'api-a', ...call },
        { ts: expect.any(Number) as number, decision: 'deny', caller: 'demo-reader', ...call, reason: 'ERR_TOKEN_AUDIENCE' },
      ])
    })
  })

  const weaker: Array<[string, Tier, (config: ServiceRuntimeConfig) => ServiceRuntimeConfig, string]> = [
    ['without a client secret', 'low', (config) => ({ ...config, clientSecret: undefined }), 'the low tier authenticates services with a client secret: clientSecret is missing'],
    ['with a plain http peer', 'medium', (config) => ({ ...config, peers: { 'api-d': { url: config.peers['api-d']!.url.replace('https:', 'http:'), spiffeId: spiffeIdOf('api-d') } } }), `the medium tier requires TLS inside: peer "api-d" is plain http:`],
    ['without its certificate', 'high', (config) => ({ ...config, tls: undefined }), 'the high tier requires mutual TLS: tls files are missing'],
    ['with a client secret', 'high', (config) => ({ ...config, clientSecret: 'a-secret-that-should-not-be-here' }), 'the high tier authenticates services with their certificates (tls_client_auth); a client secret is configured'],
    ['admitting nobody', 'high', (config) => ({ ...config, allowedCallers: [] }), 'the high tier admits only named callers over mutual TLS: allowedCallers is empty'],
  ]

  it.each(weaker.filter(([, rowTier]) => rowTier === tier))('refuses to start api-b %s', async (_name, _tier, weaken, problem) => {
    const plan = httpServices.find((service) => service.name === 'api-b')!
    await expect(startHttpService(plan, weaken(mesh.config(plan)), { logger: silent })).rejects.toThrow(`service "api-b": ${problem}`)
  })
})
