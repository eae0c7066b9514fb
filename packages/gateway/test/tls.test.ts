import { connect, type ClientHttp2Session } from 'node:http2'
import { createServer, request, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { mtlsServerOptions, PeerAuthorizer, WorkloadIdentity } from '@meshguard/service-kit/tls'
import { createGateway, GatewayError, parseConfig, type Gateway, type GatewayConfigInput } from '../src/index.js'
import { TestIssuer } from '../../service-kit/test/helpers/test-issuer.js'
import { TestPki } from '../../service-kit/test/helpers/test-pki.js'
import { EchoUpstream } from './helpers/echo-upstream.js'
import { startGateway } from './helpers/test-gateway.js'

const GATEWAY = 'spiffe://example.org/ns/edge/sa/gateway'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'
const INTRUDER = 'spiffe://example.org/ns/shop/sa/intruder'

describe('TLS on both sides of the gateway', () => {
  const auth = new TestIssuer()
  const plain = new EchoUpstream()
  let pki: TestPki
  let identity: WorkloadIdentity
  let token = ''
  let certFile = ''
  let keyFile = ''
  let ca = ''
  const servers: Server[] = []
  const gateways: Gateway[] = []

  const listen = async (server: Server) => {
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  }
  const route = (upstream: GatewayConfigInput['upstreams'][string]): Pick<GatewayConfigInput, 'issuer' | 'upstreams' | 'routes'> => ({
    issuer: auth.issuer,
    upstreams: { up: upstream },
    routes: [{ name: 'up', match: { pathPrefix: '/' }, upstream: 'up', audience: 'payments' }],
  })
  const get = async (url: string) => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }

  beforeAll(async () => {
    await auth.start()
    await auth.resource('payments', ['payments.read'])
    await auth.client({ id: 'web', scopes: ['payments.read'] })
    token = await auth.token('web', { grant_type: 'client_credentials', scope: 'payments.read' })
    pki = await TestPki.create()
    identity = new WorkloadIdentity(await pki.credentials(GATEWAY))
    pki.openssl.run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'edge.key', '-out', 'edge.pem', '-subj', '/CN=localhost', '-days', '1', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'])
    certFile = pki.openssl.path('edge.pem')
    keyFile = pki.openssl.path('edge.key')
    ca = pki.openssl.read('edge.pem')
    await plain.start()
  })
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()))
  })
  afterAll(async () => {
    for (const server of servers) server.closeAllConnections()
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
    await plain.stop()
    await auth.stop()
    auth.cleanup()
    pki.cleanup()
  })

  describe('upstreams over mutual TLS', () => {
    let paymentsUrl = ''

    beforeAll(async () => {
      const payments = new WorkloadIdentity(await pki.credentials(PAYMENTS))
      const peers = new PeerAuthorizer({ trustDomain: 'example.org', allow: [GATEWAY], onRefusal: () => undefined })
      const server = createServer(mtlsServerOptions(payments), (req, res) => {
        res.setHeader('content-type', 'application/json').end(JSON.stringify({ peer: peers.authorize(req.socket).uri, authorization: req.headers.authorization }))
      })
      peers.attach(server)
      paymentsUrl = await listen(server)
    })

    it('presents the gateway’s workload certificate and checks the upstream’s SPIFFE ID', async () => {
      const { gateway, url } = await startGateway(route({ instances: [paymentsUrl], tls: { mode: 'mtls', spiffeId: PAYMENTS } }), { identity })
      gateways.push(gateway)
      expect(await get(`${url}/pay`)).toEqual({ status: 200, body: { peer: GATEWAY, authorization: `Bearer ${token}` } })
    })

    it('answers 502 when the upstream presents another SPIFFE ID than expected', async () => {
      const { gateway, url } = await startGateway(route({ instances: [paymentsUrl], tls: { mode: 'mtls', spiffeId: [INTRUDER] } }), { identity })
      gateways.push(gateway)
      expect(await get(`${url}/pay`)).toMatchObject({ status: 502, body: { error: 'temporarily_unavailable' } })
    })

    it('will not start without a workload identity', () => {
      const config = parseConfig(route({ instances: [paymentsUrl], tls: { mode: 'mtls', spiffeId: PAYMENTS } }))
      expect(() => createGateway(config, { logger: pino({ level: 'silent' }) })).toThrow(GatewayError)
    })
  })

  describe('upstreams over TLS', () => {
    let tlsUrl = ''

    beforeAll(async () => {
      tlsUrl = await listen(createServer({ cert: ca, key: pki.openssl.read('edge.key') }, (req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ proto: 'https', url: req.url }))))
    })

    it('checks the upstream’s certificate against caFile', async () => {
      const { gateway, url } = await startGateway(route({ instances: [tlsUrl], tls: { mode: 'tls', caFile: certFile } }))
      gateways.push(gateway)
      expect(await get(`${url}/x`)).toEqual({ status: 200, body: { proto: 'https', url: '/x' } })
    })

    it('refuses an upstream certificate Node’s CA store does not know: 502', async () => {
      const { gateway, url } = await startGateway(route({ instances: [tlsUrl] }))
      gateways.push(gateway)
      expect(await get(`${url}/x`)).toMatchObject({ status: 502 })
    })
  })

  describe('HTTP/2 at the edge', () => {
    let gateway: Gateway
    let base = ''
    let session: ClientHttp2Session | undefined

    beforeAll(async () => {
      ;({ gateway, url: base } = await startGateway({
        issuer: auth.issuer,
        listen: { tls: { certFile, keyFile } },
        upstreams: { plain: { instances: [plain.url] } },
        routes: [{ name: 'plain', match: { pathPrefix: '/' }, upstream: 'plain', audience: 'payments' }],
      }))
    })
    afterAll(async () => {
      session?.close()
      await gateway.close()
    })

    const h2 = (headers: Record<string, string>) =>
      new Promise<{ headers: Record<string, unknown>; body: Record<string, unknown> }>((resolve, reject) => {
        session ??= connect(base, { ca })
        const stream = session.request(headers)
        let text = ''
        let responseHeaders: Record<string, unknown> = {}
        stream.on('response', (h) => (responseHeaders = h))
        stream.on('data', (chunk: Buffer) => (text += chunk.toString()))
        stream.on('end', () => {
          resolve({ headers: responseHeaders, body: JSON.parse(text) as Record<string, unknown> })
        })
        stream.on('error', reject)
        stream.end()
      })

    it('serves HTTP/2: the token checked, the request forwarded with X-Forwarded-Proto https', async () => {
      const reply = await h2({ ':path': '/h2?x=1', authorization: `bearer ${token}`, 'x-custom': 'kept', 'x-scope-token': 'spoofed' })
      expect(reply.headers[':status']).toBe(200)
      expect(reply.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
      const seen = reply.body as { url: string; headers: Record<string, string> }
      expect(seen.url).toBe('/h2?x=1')
      expect(seen.headers).toMatchObject({ authorization: `Bearer ${token}`, 'x-custom': 'kept', 'x-forwarded-proto': 'https', 'x-forwarded-host': new URL(base).host })
      expect(seen.headers['x-scope-token']).toBeUndefined()
    })

    it('refuses over HTTP/2 with the challenge and body', async () => {
      const reply = await h2({ ':path': '/h2' })
      expect(reply.headers[':status']).toBe(401)
      expect(reply.headers['www-authenticate']).toBe('Bearer realm="meshguard"')
      expect(reply.body.error).toBe('invalid_request')
    })

    it('still serves HTTP/1.1 over TLS on the same port', async () => {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = request(`${base}/h1`, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
          res.resume()
          resolve(res.statusCode)
        })
        req.on('error', reject)
        req.end()
      })
      expect(status).toBe(200)
    })
  })
})
