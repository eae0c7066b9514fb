import { randomBytes, X509Certificate } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PeerCertificate } from 'node:tls'
import { credentials, status, type CallOptions, type ChannelCredentials, type ClientReadableStream, type requestCallback, type ServiceError } from '@grpc/grpc-js'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCa, newWorkloadKey, subjectAltNames, type CertificateAuthority } from '@meshguard/pki'
import { bearerCallCredentials } from '@meshguard/service-kit/grpc'
import { WorkloadIdentity } from '@meshguard/service-kit/tls'
import { mtlsChannelCredentials } from '@meshguard/service-kit/tls/grpc'
import { basic, postForm, startTestServer, type TestServer } from '../../packages/auth-server/test/helpers/test-server.js'
import type { Article__Output } from '../src/grpc/generated/meshguard/demo/Article.js'
import type { Order__Output } from '../src/grpc/generated/meshguard/demo/Order.js'
import type { Reading__Output } from '../src/grpc/generated/meshguard/demo/Reading.js'
import { grpcDemoClient, type GrpcDemoClient } from '../src/grpc/grpc-demo-client.js'
import { grpcPlan } from '../src/grpc/grpc-plan.js'
import { PROTO_FILES } from '../src/grpc/load-demo-protos.js'
import { startGrpcService } from '../src/grpc/start-grpc-service.js'
import type { CallEvent } from '../src/runtime/call-reporter.js'
import type { RunningService, ServiceRuntimeConfig, WorkloadTlsFiles } from '../src/runtime/service-config.js'

const TRUST_DOMAIN = 'meshguard.local'
const SERVER = `spiffe://${TRUST_DOMAIN}/grpc-demo`
const DASHBOARD = `spiffe://${TRUST_DOMAIN}/dashboard`
const INTRUDER = `spiffe://${TRUST_DOMAIN}/intruder`
const AUTH_SERVER = `spiffe://${TRUST_DOMAIN}/auth-server`
const CLIENT = 'dashboard'

interface Outcome<T> {
  code: status
  details?: string
  value?: T
}

/** A unary call's outcome: its status, and the response when it succeeded. */
function settle<T>(start: (callback: requestCallback<T>) => unknown): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    start((err, value) => {
      resolve(err ? { code: err.code, details: err.details } : { code: status.OK, value: value! })
    })
  })
}

/** Server-auth-only TLS, as a caller without a workload certificate has it: the bundle, and the server's SPIFFE ID. */
function serverAuthOnly(ca: CertificateAuthority): ChannelCredentials {
  return credentials.createSsl(Buffer.from(ca.trustBundlePem), null, null, {
    checkServerIdentity: (_host: string, certificate: PeerCertificate) => {
      const { uris } = subjectAltNames(new X509Certificate(certificate.raw))
      return uris.length === 1 && uris[0] === SERVER ? undefined : new Error(`not ${SERVER}: ${uris.join(', ')}`)
    },
  })
}

describe('the gRPC demo services on the service kit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshguard-grpc-demo-'))
  const services: RunningService[] = []
  const clients: GrpcDemoClient[] = []
  const workloads: Partial<Record<string, WorkloadIdentity>> = {}
  let auth: TestServer
  let secret: string
  /** The service's own client secret (low and medium tiers). */
  let serviceSecret: string
  let ca: CertificateAuthority
  let serverTls: WorkloadTlsFiles
  const running: Partial<Record<'low' | 'medium' | 'high', RunningService>> = {}

  const token = async (scope: string) => {
    const response = await postForm(auth.tokenEndpoint, { grant_type: 'client_credentials', scope }, { authorization: basic(CLIENT, secret) })
    expect(response.status).toBe(200)
    return response.body.access_token as string
  }
  const bearer = (value: string): CallOptions => ({ credentials: bearerCallCredentials(() => value), deadline: Date.now() + 5_000 })
  const identity = async (spiffeId: string) => {
    const { keyPem, csrPem } = await newWorkloadKey(spiffeId)
    const { chainPem } = await ca.issue({ csr: csrPem, identity: spiffeId, ttlSec: 3600 })
    return { certificateChainPem: chainPem, privateKeyPem: keyPem, trustBundlePem: ca.trustBundlePem }
  }
  const workload = async (spiffeId: string) => (workloads[spiffeId] ??= new WorkloadIdentity(await identity(spiffeId)))
  const client = (service: RunningService, channel: ChannelCredentials, token?: () => string) => {
    const created = grpcDemoClient(service.address, { credentials: channel, token })
    clients.push(created)
    return created
  }
  const mtlsClient = async (service: RunningService, caller = DASHBOARD) =>
    client(service, mtlsChannelCredentials(await workload(caller), { expect: [SERVER], tier: 'high' }))
  /** What `meshguard up` would hand the service on `tier`: all its tier profile asks for. */
  const configFor = (tier: ServiceRuntimeConfig['tier']): ServiceRuntimeConfig => ({
    name: grpcPlan.name,
    tier,
    host: '127.0.0.1',
    port: 0,
    issuer: auth.issuer,
    jwksUri: auth.jwksUri,
    revocationEventsUri: `${auth.baseUrl}/oauth2/revocations/events`,
    peers: {},
    ...(tier === 'high'
      ? { tokenEndpoint: auth.mtls!.tokenEndpoint, authServerSpiffeId: AUTH_SERVER, allowedCallers: [DASHBOARD] }
      : { tokenEndpoint: auth.tokenEndpoint, clientSecret: serviceSecret }),
    ...(tier !== 'low' && { tls: serverTls, spiffeId: SERVER }),
  })
  const start = async (tier: ServiceRuntimeConfig['tier'], extra: Partial<ServiceRuntimeConfig> = {}) => {
    const service = await startGrpcService({ ...configFor(tier), ...extra }, { logger: pino({ level: 'silent' }) })
    services.push(service)
    return service
  }

  beforeAll(async () => {
    ca = await initCa({ dir: join(dir, 'ca'), trustDomain: TRUST_DOMAIN, passphrase: randomBytes(16).toString('hex') })
    const files = (name: string, credentials: Awaited<ReturnType<typeof identity>>): WorkloadTlsFiles => {
      const tls = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key.pem`), caFile: join(dir, 'bundle.pem') }
      writeFileSync(tls.certFile, credentials.certificateChainPem)
      writeFileSync(tls.keyFile, credentials.privateKeyPem)
      writeFileSync(tls.caFile, ca.trustBundlePem)
      return tls
    }
    serverTls = files('grpc-demo', await identity(SERVER))
    const authTls = files('auth-server', await identity(AUTH_SERVER))
    auth = await startTestServer({ config: { mtls: { port: 0, ...authTls } } })
    await auth.resource(grpcPlan.name, [...grpcPlan.scopes])
    secret = (await auth.client({ id: CLIENT, scopes: [...grpcPlan.scopes] }))!
    serviceSecret = (await auth.client({ id: grpcPlan.name, scopes: [], grantTypes: [] }))!
    running.low = await start('low')
    running.medium = await start('medium')
    running.high = await start('high')
  })

  afterAll(async () => {
    for (const created of clients) created.close()
    await Promise.all(services.map((service) => service.close()))
    // A verifier closed before the others (the shutdown test's) leaves undici reconnecting for its
    // aborted revocation stream, and that idle connection would hold the issuer's close for the
    // keep-alive timeout: cut every connection once the close has begun.
    const stopped = auth.stop()
    auth.server.app.server.closeAllConnections()
    await stopped
    auth.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  it.each([
    ['the high tier without named callers', 'high', { allowedCallers: [] }, 'allowedCallers is empty'],
    ['the high tier with a client secret', 'high', { clientSecret: 'a secret' }, 'a client secret is configured'],
    ['the medium tier without its certificate', 'medium', { tls: undefined }, 'tls files are missing'],
  ] as const)('refuses to start on %s', async (_name, tier, extra, problem) => {
    await expect(start(tier, extra)).rejects.toMatchObject({ name: 'TierProfileError', message: expect.stringContaining(problem) as unknown })
  })

  it('describes itself for the supervisor: one resource server with every scope a method needs', () => {
    expect(grpcPlan).toMatchObject({
      name: 'grpc-demo',
      kind: 'grpc',
      scopes: ['sensor.read', 'article.write', 'article.read', 'order.write', 'order.read'],
      services: ['meshguard.demo.SensorService', 'meshguard.demo.ArticleService', 'meshguard.demo.OrderService'],
    })
    expect(readdirSync(grpcPlan.protoDir)).toEqual(expect.arrayContaining([...PROTO_FILES]))
  })

  describe('high tier: mutual TLS, then the token', () => {
    it.each([
      ['a token with sensor.read', 'sensor.read', status.OK],
      ['no token', undefined, status.UNAUTHENTICATED],
      ['a token without sensor.read', 'article.read', status.PERMISSION_DENIED],
    ])('GetReading with %s', async (_name, scope, expected) => {
      const demo = await mtlsClient(running.high!)
      const options = scope === undefined ? { deadline: Date.now() + 5_000 } : bearer(await token(scope))
      const outcome = await settle<Reading__Output>((callback) => demo.sensors.GetReading({ sensor_id: 'greenhouse-temperature' }, options, callback))
      expect(outcome.code).toBe(expected)
      if (expected === status.OK) {
        expect(outcome.value).toMatchObject({ sensor_id: 'greenhouse-temperature', sensor_type: 'DHT22', unit: 'Cel', sequence: 0 })
      }
    })

    it('fails at the transport for a caller without a client certificate, even with a good token', async () => {
      const demo = client(running.high!, serverAuthOnly(ca))
      const options = bearer(await token('sensor.read'))
      const outcome = await settle((callback) => demo.sensors.GetReading({ sensor_id: 'greenhouse-temperature' }, options, callback))
      expect(outcome.code).toBe(status.UNAVAILABLE)
      expect(outcome.details).toMatch(/certificate required/)
    })

    it('refuses a workload that is not an allowed caller, with PERMISSION_DENIED, before looking at its token', async () => {
      const scoped = bearer(await token('sensor.read'))
      const intruder = await mtlsClient(running.high!, INTRUDER)
      const refused = await settle((callback) => intruder.sensors.GetReading({ sensor_id: 'garage-distance' }, scoped, callback))
      expect(refused).toEqual({ code: status.PERMISSION_DENIED, details: `${INTRUDER} is not allowed on /meshguard.demo.SensorService/GetReading` })
    })

    it('cuts a sensor feed with UNAUTHENTICATED within 2 s of its token being revoked', async () => {
      const feedToken = await token('sensor.read')
      const demo = await mtlsClient(running.high!)
      const feed: ClientReadableStream<Reading__Output> = demo.sensors.Feed({ sensor_id: 'greenhouse-humidity', interval_ms: 50 }, bearer(feedToken))
      const readings: Reading__Output[] = []
      let revokedAt = 0
      const ended = new Promise<{ error: ServiceError; afterMs: number }>((resolve) => {
        feed.on('error', (error: ServiceError) => {
          resolve({ error, afterMs: Date.now() - revokedAt })
        })
      })
      await new Promise<void>((resolve) => {
        feed.on('data', (reading: Reading__Output) => {
          readings.push(reading)
          if (readings.length === 3) resolve()
        })
      })
      revokedAt = Date.now()
      const revoked = await postForm(auth.revocationEndpoint, { token: feedToken }, { authorization: basic(CLIENT, secret) })
      expect(revoked.status).toBe(200)
      const { error, afterMs } = await ended
      expect(error).toMatchObject({ code: status.UNAUTHENTICATED, details: 'the token has been revoked' })
      expect(afterMs).toBeLessThan(2_000)
      expect(readings.length).toBeGreaterThanOrEqual(3)
      expect(readings.map((reading) => reading.sequence)).toEqual(readings.map((_, index) => index))
    })

    it('serves Article create, get, list and delete to the scopes each needs', async () => {
      const [read, write] = [bearer(await token('article.read')), bearer(await token('article.write'))]
      const { articles } = await mtlsClient(running.high!)
      const created = await settle<Article__Output>((callback) => articles.Create({ description: 'Soil moisture sensor', price: 350 }, write, callback))
      expect(created).toMatchObject({ code: status.OK, value: { description: 'Soil moisture sensor', price: '350' } })
      const id = created.value!.id
      expect(await settle((callback) => articles.Get({ id }, read, callback))).toEqual({ code: status.OK, value: created.value })
      const listed = await settle<{ articles: Article__Output[] }>((callback) => articles.List({}, read, callback))
      expect(listed.value?.articles).toContainEqual(created.value)
      expect(await settle((callback) => articles.Delete({ id }, read, callback))).toMatchObject({ code: status.PERMISSION_DENIED })
      expect(await settle((callback) => articles.Create({ description: 'Relay', price: 100 }, read, callback))).toMatchObject({ code: status.PERMISSION_DENIED })
      expect(await settle((callback) => articles.Delete({ id }, write, callback))).toEqual({ code: status.OK, value: {} })
      expect(await settle((callback) => articles.Get({ id }, read, callback))).toEqual({ code: status.NOT_FOUND, details: `no article ${id}` })
      expect(await settle((callback) => articles.Create({ description: 'Free lunch', price: -1 }, write, callback))).toEqual({
        code: status.INVALID_ARGUMENT,
        details: 'article.price must not be negative',
      })
    })

    it('places an order, gets it back, and streams it to a watcher', async () => {
      const tokens = { read: await token('order.read'), write: await token('order.write') }
      const { orders } = await mtlsClient(running.high!)
      const watch = orders.WatchOrders({}, bearer(tokens.read))
      const watched = new Promise<Order__Output>((resolve) => watch.on('data', resolve))
      watch.on('error', () => undefined)
      const line = { quantity: 2, product: { id: 7, description: 'DHT22', price: '990' } }
      const created = await settle<Order__Output>((callback) => orders.CreateOrder({ name: 'Greenhouse kit', lines: [line, { ...line, quantity: 1 }] }, bearer(tokens.write), callback))
      expect(created).toMatchObject({
        code: status.OK,
        value: { name: 'Greenhouse kit', lines: [{ id: 1, quantity: 2, product: line.product }, { id: 2, quantity: 1, product: line.product }] },
      })
      expect(await watched).toEqual(created.value)
      watch.cancel()
      const id = created.value!.id
      expect(await settle((callback) => orders.GetOrder({ id }, bearer(tokens.read), callback))).toEqual({ code: status.OK, value: created.value })
      expect(await settle((callback) => orders.GetOrder({ id }, bearer(tokens.write), callback))).toMatchObject({ code: status.PERMISSION_DENIED })
      expect(await settle((callback) => orders.CreateOrder({ name: 'Empty', lines: [] }, bearer(tokens.write), callback))).toEqual({
        code: status.INVALID_ARGUMENT,
        details: 'an order has 1 to 100 lines',
      })
    })
  })

  describe('medium tier: TLS with the workload certificate', () => {
    it('serves a caller that presents no certificate, and only over TLS', async () => {
      const options = bearer(await token('sensor.read'))
      const overTls = client(running.medium!, serverAuthOnly(ca))
      expect(await settle((callback) => overTls.sensors.GetReading({ sensor_id: 'garage-distance' }, options, callback))).toMatchObject({ code: status.OK })
      const plaintext = client(running.medium!, credentials.createInsecure())
      expect(await settle((callback) => plaintext.sensors.GetReading({ sensor_id: 'garage-distance' }, options, callback))).toMatchObject({ code: status.UNAVAILABLE })
    })
  })

  describe('low tier: plaintext', () => {
    it('serves over insecure credentials, still only with a token that has the scope', async () => {
      const read = await token('sensor.read')
      const demo = client(running.low!, credentials.createInsecure(), () => read)
      const reading = await settle<Reading__Output>((callback) => demo.sensors.GetReading({ sensor_id: 'garage-distance' }, { deadline: Date.now() + 5_000 }, callback))
      expect(reading).toMatchObject({ code: status.OK, value: { sensor_id: 'garage-distance', sensor_type: 'HC_SR04', unit: 'cm' } })
      expect(await settle((callback) => demo.sensors.GetReading({ sensor_id: 'nowhere' }, {}, callback))).toEqual({ code: status.NOT_FOUND, details: 'no sensor named "nowhere"' })
      const anonymous = client(running.low!, credentials.createInsecure())
      expect(await settle((callback) => anonymous.sensors.GetReading({ sensor_id: 'garage-distance' }, {}, callback))).toMatchObject({ code: status.UNAUTHENTICATED })
    })

    it('reports the calls it allows and refuses to auditUri, as its own client', async () => {
      const received: Array<{ authorization: string | undefined; events: CallEvent[] }> = []
      const collector = createServer((request, response) => {
        let body = ''
        request.on('data', (chunk: Buffer) => (body += chunk.toString()))
        request.on('end', () => {
          received.push({ authorization: request.headers.authorization, events: (JSON.parse(body) as { events: CallEvent[] }).events })
          response.writeHead(202).end()
        })
      })
      await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
      try {
        const service = await start('low', { auditUri: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/audit/events` })
        const read = await token('sensor.read')
        const demo = client(service, credentials.createInsecure())
        await settle((callback) => demo.sensors.GetReading({ sensor_id: 'garage-distance' }, bearer(read), callback))
        await settle((callback) => demo.articles.List({}, {}, callback))
        await service.close()
        expect(received.map((batch) => batch.authorization)).toEqual([basic(grpcPlan.name, serviceSecret)])
        expect(received.flatMap((batch) => batch.events)).toEqual([
          { ts: expect.any(Number), decision: 'allow', service: 'grpc-demo', caller: CLIENT, subject: CLIENT, act: null, method: 'POST', path: '/meshguard.demo.SensorService/GetReading' },
          { ts: expect.any(Number), decision: 'deny', service: 'grpc-demo', caller: null, subject: null, act: null, method: 'POST', path: '/meshguard.demo.ArticleService/List', reason: 'ERR_TOKEN_MISSING' },
        ])
      } finally {
        collector.close()
      }
    })

    it('ends open streams with UNAVAILABLE when it stops, without waiting for them', async () => {
      const service = await start('low')
      const scoped = await token('sensor.read order.read order.write')
      const demo = client(service, credentials.createInsecure(), () => scoped)
      await settle((callback) => demo.orders.CreateOrder({ name: 'Spare parts', lines: [{ quantity: 1, product: { id: 1, description: 'Relay', price: 100 } }] }, {}, callback))
      // Each stream writes at once (a reading; the order placed so far): the first message says it is open.
      const streams = [demo.sensors.Feed({ sensor_id: 'garage-distance' }), demo.orders.WatchOrders({})].map((stream: ClientReadableStream<unknown>) => ({
        open: new Promise((resolve) => stream.once('data', resolve)),
        ended: new Promise<Outcome<never>>((resolve) => {
          stream.on('error', (err: ServiceError) => {
            resolve({ code: err.code, details: err.details })
          })
        }),
      }))
      await Promise.all(streams.map(({ open }) => open))
      const stopping = Date.now()
      await service.close()
      expect(Date.now() - stopping).toBeLessThan(1_000)
      expect(await Promise.all(streams.map(({ ended }) => ended))).toEqual([
        { code: status.UNAVAILABLE, details: 'the sensor service is shutting down' },
        { code: status.UNAVAILABLE, details: 'the order service is shutting down' },
      ])
    })
  })
})
