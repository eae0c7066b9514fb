import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, OpenApiRoutes, type Verifier } from '../src/index.js'
import { withMeshguard } from '../src/adapters/node-http.js'
import { createMtlsAgent, mtlsServerOptions, WorkloadIdentity, type WorkloadCredentials } from '../src/tls/index.js'
import { TestIssuer } from './helpers/test-issuer.js'
import { TestPki } from './helpers/test-pki.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const CART = 'spiffe://example.org/ns/shop/sa/cart'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'

/**
 * Issue 4's bound-token case end to end: the authorization server issues orders-service a token
 * bound to its workload certificate (tls_client_auth, RFC 8705); payments accepts it over orders'
 * own connection and refuses it replayed from cart's.
 */
describe('a certificate-bound token from the authorization server', () => {
  const auth = new TestIssuer()
  let pki: TestPki
  let orders: WorkloadCredentials
  let cart: WorkloadCredentials
  let verifier: Verifier
  let payments: Server
  let paymentsUrl: string
  let token = ''

  beforeAll(async () => {
    pki = await TestPki.create()
    orders = await pki.credentials(ORDERS)
    cart = await pki.credentials(CART)
    const authServer = await pki.credentials('spiffe://example.org/meshguard/auth-server')
    const file = (name: string, content: string) => {
      const path = join(auth.dataDir, name)
      writeFileSync(path, content)
      return path
    }
    await auth.start(0, {
      mtls: {
        port: 0,
        certFile: file('auth.pem', authServer.certificateChainPem),
        keyFile: file('auth.key', authServer.privateKeyPem),
        caFile: file('bundle.pem', pki.trustBundlePem),
      },
    })
    await auth.resource('payment-service', ['payment.read'])
    await auth.client({ id: 'orders-service', scopes: ['payment.read'], tlsClientAuthSanUri: ORDERS })

    // orders-service authenticates with its workload certificate at the mTLS token endpoint.
    const mtls = auth.server.mtls!.app.server.address() as AddressInfo
    const response = await request(`https://127.0.0.1:${mtls.port}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'orders-service', scope: 'payment.read' }).toString(),
      dispatcher: new Agent({ connect: { ca: pki.trustBundlePem, cert: orders.certificateChainPem, key: orders.privateKeyPem, checkServerIdentity: () => undefined } }),
    })
    expect(response.statusCode).toBe(200)
    token = ((await response.body.json()) as { access_token: string }).access_token

    verifier = createVerifier({ issuer: auth.issuer, audience: 'payment-service', jwksUri: `${auth.issuer}/.well-known/jwks.json` })
    await verifier.start()
    const routes = new OpenApiRoutes({ openapi: '3.0.3', security: [{ oauth2: ['payment.read'] }], paths: { '/payments': { get: {} } } })
    const identity = new WorkloadIdentity(await pki.credentials(PAYMENTS))
    payments = createServer(
      mtlsServerOptions(identity),
      withMeshguard({ routes, verifier }, (_req, res, authorised) => {
        res.end(authorised.caller?.clientId)
      }),
    )
    await new Promise<void>((done) => payments.listen(0, '127.0.0.1', done))
    paymentsUrl = `https://127.0.0.1:${(payments.address() as AddressInfo).port}/payments`
  })
  afterAll(async () => {
    payments.close()
    verifier.close()
    await auth.stop()
    auth.cleanup()
    pki.cleanup()
  })

  const callAs = async (credentials: WorkloadCredentials) => {
    const dispatcher = createMtlsAgent(new WorkloadIdentity(credentials), { expect: [PAYMENTS] })
    try {
      const response = await request(paymentsUrl, { headers: { authorization: `Bearer ${token}` }, dispatcher })
      return { status: response.statusCode, body: await response.body.text(), challenge: response.headers['www-authenticate'] }
    } finally {
      await dispatcher.close()
    }
  }

  it('is bound to the certificate it was issued over', async () => {
    const claims = (await verifier.verify(token)).claims
    expect(claims.cnf?.['x5t#S256']).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('passes over its own connection', async () => {
    expect(await callAs(orders)).toMatchObject({ status: 200, body: 'orders-service' })
  })

  it("is refused replayed over another workload's connection", async () => {
    const replay = await callAs(cart)
    expect(replay.status).toBe(401)
    expect(replay.challenge).toMatch(/error="invalid_token", error_description="the token is bound to a client certificate this connection does not present"/)
  })
})
