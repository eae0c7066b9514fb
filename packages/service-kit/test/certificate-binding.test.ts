import { X509Certificate } from 'node:crypto'
import { connect, createSecureServer } from 'node:http2'
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest, Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { exportJWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeGenericClientConstructor, Metadata, Server, status, type Client, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js'
import { certificateThumbprint, createVerifier, OpenApiRoutes, type StaticKey, type Verifier } from '../src/index.js'
import { withMeshguard } from '../src/adapters/node-http.js'
import { grpcCallAuth, GrpcMethods, meshguardInterceptor } from '../src/adapters/grpc.js'
import { mtlsServerOptions, PeerAuthorizer, WorkloadIdentity, type WorkloadCredentials } from '../src/tls/index.js'
import { mtlsChannelCredentials, mtlsServerCredentials } from '../src/tls/grpc.js'
import { claimsAt, es256Key, forge, json } from './forge.js'
import { TestPki } from './helpers/test-pki.js'
import { OpenSsl } from '../../pki/test/openssl.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const CART = 'spiffe://example.org/ns/shop/sa/cart'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'
const NOW = Math.floor(Date.now() / 1000)

const spec = {
  openapi: '3.0.3',
  security: [{ oauth2: ['payment.read'] }],
  paths: { '/payments': { get: { operationId: 'listPayments' } } },
}

/**
 * RFC 8705 §3: a token bound to a workload's certificate is refused over any other connection, so
 * a token stolen from one service is useless to another. One row per way of replaying it.
 */
describe('certificate-bound tokens', () => {
  const key = es256Key('k1')
  const openssl = new OpenSsl()
  let pki: TestPki
  let verifier: Verifier
  let orders: WorkloadCredentials
  let cart: WorkloadCredentials
  let mtlsServer: HttpsServer
  let tlsOnlyServer: HttpsServer
  let plainServer: HttpServer
  const tokens: Record<string, string> = {}

  const token = (claims: Record<string, unknown>) => forge(json({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }), json(claimsAt(NOW, { aud: 'payment-service', ...claims })), { key })

  /** One request on a new connection to `server`, presenting `client`'s certificate when given. */
  const send = (server: HttpsServer | HttpServer, client: WorkloadCredentials | undefined, headers: Record<string, string>) => {
    const { port } = server.address() as AddressInfo
    const tls = server instanceof HttpsServer
    return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const options = {
        host: '127.0.0.1',
        port,
        path: '/payments',
        agent: false as const,
        headers,
        ...(tls && { ca: pki.trustBundlePem, checkServerIdentity: () => undefined }),
        ...(client && { cert: client.certificateChainPem, key: client.privateKeyPem }),
      }
      const answer = (res: IncomingMessage) => {
        let text = ''
        res.on('data', (chunk: Buffer) => (text += chunk.toString()))
        res.on('end', () => {
          resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> })
        })
      }
      const req = tls ? httpsRequest(options, answer) : httpRequest(options, answer)
      req.on('error', reject)
      req.end()
    })
  }

  beforeAll(async () => {
    pki = await TestPki.create()
    orders = await pki.credentials(ORDERS)
    cart = await pki.credentials(CART)
    const payments = new WorkloadIdentity(await pki.credentials(PAYMENTS))
    const jwk = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256' } as StaticKey
    verifier = createVerifier({ issuer: 'https://issuer-a.test', audience: 'payment-service', keys: [jwk] })

    // The thumbprint agrees with openssl's SHA-256 fingerprint, computed by an independent tool.
    openssl.write('orders.pem', orders.certificateChainPem)
    const ordersThumbprint = certificateThumbprint(new X509Certificate(orders.certificateChainPem).raw)
    expect(openssl.run(['x509', '-in', 'orders.pem', '-noout', '-fingerprint', '-sha256']).replace(/^.*=|:|\n/g, '').toLowerCase()).toBe(
      Buffer.from(ordersThumbprint, 'base64url').toString('hex'),
    )
    tokens.bound = token({ scope: 'payment.read', cnf: { 'x5t#S256': ordersThumbprint } })
    tokens.unbound = token({ scope: 'payment.read' })
    tokens.boundNoScope = token({ scope: 'other', cnf: { 'x5t#S256': ordersThumbprint } })
    tokens.cartScope = token({ sub: 'cart', client_id: 'cart', scope: 'payment.read', cnf: { 'x5t#S256': certificateThumbprint(new X509Certificate(cart.certificateChainPem).raw) } })

    const handler = withMeshguard({ routes: new OpenApiRoutes(spec), verifier }, (_req, res, auth) => {
      res.setHeader('content-type', 'application/json').end(JSON.stringify({ subject: auth.caller?.subject, grantedBy: auth.grantedBy }))
    })
    mtlsServer = createHttpsServer(mtlsServerOptions(payments), handler)
    tlsOnlyServer = createHttpsServer({ key: payments.credentials.privateKeyPem, cert: payments.credentials.certificateChainPem }, handler)
    plainServer = createHttpServer(handler)
    for (const server of [mtlsServer, tlsOnlyServer, plainServer]) await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  })
  afterAll(() => {
    for (const server of [mtlsServer, tlsOnlyServer, plainServer]) server.close()
    verifier.close()
    pki.cleanup()
    openssl.cleanup()
  })

  const bearer = (name: string) => ({ authorization: `Bearer ${tokens[name]!}` })

  it('accepts a bound token over the connection of the certificate it is bound to', async () => {
    expect(await send(mtlsServer, orders, bearer('bound'))).toEqual({ status: 200, body: { subject: 'alice', grantedBy: 'caller' } })
  })

  it('accepts an unbound token over any connection', async () => {
    expect((await send(mtlsServer, cart, bearer('unbound'))).status).toBe(200)
    expect((await send(plainServer, undefined, bearer('unbound'))).status).toBe(200)
  })

  const replays: Array<[string, () => HttpsServer | HttpServer, () => WorkloadCredentials | undefined, () => Record<string, string>, number, string]> = [
    ["replayed over another workload's mTLS connection", () => mtlsServer, () => cart, () => bearer('bound'), 401, 'invalid_token'],
    ['replayed over TLS without a client certificate', () => tlsOnlyServer, () => undefined, () => bearer('bound'), 401, 'invalid_token'],
    ['replayed over plain HTTP', () => plainServer, () => undefined, () => bearer('bound'), 401, 'invalid_token'],
    ['as an X-Scope-Token bound to another workload, beside a caller without the scope', () => mtlsServer, () => orders, () => ({ ...bearer('boundNoScope'), 'x-scope-token': tokens.cartScope! }), 403, 'insufficient_scope'],
  ]

  it.each(replays)('refuses a bound token %s', async (_name, server, client, headers, code, error) => {
    const reply = await send(server(), client(), headers())
    expect({ status: reply.status, error: reply.body.error }).toEqual({ status: code, error })
    if (code === 401) expect(reply.body.error_description).toBe('the token is bound to a client certificate this connection does not present')
  })

  it('checks the binding over HTTP/2, and names the peer of each HTTP/2 request', async () => {
    const payments = new WorkloadIdentity(await pki.credentials(PAYMENTS))
    const authorizer = new PeerAuthorizer({ trustDomain: 'example.org', allow: [ORDERS, CART], onRefusal: () => undefined })
    const peers: string[] = []
    const handler = withMeshguard({ routes: new OpenApiRoutes(spec), verifier }, (req, res, auth) => {
      peers.push(authorizer.authorize(req).uri)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ subject: auth.caller?.subject }))
    })
    const server = createSecureServer(mtlsServerOptions(payments), handler as unknown as Parameters<typeof createSecureServer>[1])
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const { port } = server.address() as AddressInfo
    const callOver = async (client: WorkloadCredentials, requests: number) => {
      const session = connect(`https://127.0.0.1:${port}`, { ca: pki.trustBundlePem, cert: client.certificateChainPem, key: client.privateKeyPem, checkServerIdentity: () => undefined })
      const statuses: number[] = []
      for (let i = 0; i < requests; i += 1) {
        statuses.push(
          await new Promise<number>((resolve, reject) => {
            const stream = session.request({ ':path': '/payments', authorization: `Bearer ${tokens.bound!}` })
            stream.on('response', (headers) => {
              resolve(headers[':status']!)
            })
            stream.on('error', reject)
            stream.resume()
            stream.end()
          }),
        )
      }
      session.close()
      return statuses
    }
    try {
      expect(await callOver(orders, 3)).toEqual([200, 200, 200])
      expect(await callOver(cart, 1)).toEqual([401])
      expect(peers).toEqual([ORDERS, ORDERS, ORDERS])
    } finally {
      server.close()
    }
  })

  it('checks the binding on gRPC calls too', async () => {
    const codec = { serialize: (value: unknown) => Buffer.from(JSON.stringify(value)), deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString()) }
    const definition = {
      GetPayment: {
        path: '/demo.PaymentService/GetPayment',
        originalName: 'GetPayment',
        requestStream: false,
        responseStream: false,
        requestSerialize: codec.serialize,
        requestDeserialize: codec.deserialize,
        responseSerialize: codec.serialize,
        responseDeserialize: codec.deserialize,
      },
    }
    const payments = new WorkloadIdentity(await pki.credentials(PAYMENTS))
    const server = new Server({ interceptors: [meshguardInterceptor({ methods: new GrpcMethods({ '/demo.PaymentService/GetPayment': { scopes: ['payment.read'] } }), verifier })] })
    server.addService(definition, {
      GetPayment: (call: ServerUnaryCall<unknown, unknown>, callback: (err: null, value: unknown) => void) => {
        callback(null, { subject: grpcCallAuth(call).caller?.subject })
      },
    })
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', mtlsServerCredentials(payments, { allow: [ORDERS, CART], onRefusal: () => undefined }), (err, bound) => {
        if (err) reject(err)
        else resolve(bound)
      })
    })
    const Payments = makeGenericClientConstructor(definition, 'PaymentService')
    const callAs = (credentials: WorkloadCredentials) => {
      const client = new Payments(`127.0.0.1:${port}`, mtlsChannelCredentials(new WorkloadIdentity(credentials), { expect: [PAYMENTS] })) as Client & Record<string, (...args: unknown[]) => void>
      const metadata = new Metadata()
      metadata.set('authorization', `Bearer ${tokens.bound!}`)
      return new Promise<number>((resolve) => {
        client.GetPayment!({}, metadata, (err: ServiceError | null) => {
          client.close()
          resolve(err ? err.code : status.OK)
        })
      })
    }
    try {
      expect(await callAs(orders)).toBe(status.OK)
      expect(await callAs(cart)).toBe(status.UNAUTHENTICATED)
    } finally {
      server.forceShutdown()
    }
  })
})
