import { writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { TOKEN_EXCHANGE_GRANT } from '@meshguard/auth-server'
import type { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { certificateThumbprint, ClientCredentials, TokenExchange, type TokenEndpointOptions } from '../src/index.js'
import { createMtlsAgent, WorkloadIdentity } from '../src/tls/index.js'
import { TestIssuer } from './helpers/test-issuer.js'
import { TestPki } from './helpers/test-pki.js'

const CART = 'spiffe://example.org/ns/shop/sa/cart'
const AUTH_SERVER = 'spiffe://example.org/meshguard/auth-server'

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

/**
 * The outbound client authenticating with its workload certificate (RFC 8705 §2.1
 * `tls_client_auth`) at the authorization server's mutual-TLS token endpoint, for its own tokens
 * and for exchanges, and exchanging for several audiences at once (RFC 8693 §2.1).
 */
describe('the outbound client with tls_client_auth', () => {
  const auth = new TestIssuer()
  let pki: TestPki
  let cart: WorkloadIdentity
  let dispatcher: Agent
  let mtlsTokenEndpoint = ''
  let user = ''

  beforeAll(async () => {
    pki = await TestPki.create()
    cart = new WorkloadIdentity(await pki.credentials(CART))
    const server = await pki.credentials(AUTH_SERVER)
    const file = (name: string, content: string) => {
      const path = join(auth.dataDir, name)
      writeFileSync(path, content)
      return path
    }
    await auth.start(0, {
      mtls: { port: 0, certFile: file('auth.pem', server.certificateChainPem), keyFile: file('auth.key', server.privateKeyPem), caFile: file('bundle.pem', pki.trustBundlePem) },
    })
    await auth.resource('cart-service', ['cart.write'])
    await auth.resource('order-service', ['order.write'])
    await auth.resource('payment-service', ['payment.write'])
    await auth.client({ id: 'web', scopes: ['cart.write', 'order.write', 'payment.write'] })
    await auth.client({ id: 'cart-service', scopes: ['order.write', 'payment.write'], grantTypes: ['client_credentials', TOKEN_EXCHANGE_GRANT], tlsClientAuthSanUri: CART })
    user = await auth.token('web', { grant_type: 'client_credentials', scope: 'cart.write order.write payment.write' })
    mtlsTokenEndpoint = `https://127.0.0.1:${(auth.server.mtls!.app.server.address() as AddressInfo).port}/oauth2/token`
    dispatcher = createMtlsAgent(cart, { expect: [AUTH_SERVER] })
  })
  afterAll(async () => {
    await dispatcher.close()
    await auth.stop()
    auth.cleanup()
    pki.cleanup()
  })

  const options = (): TokenEndpointOptions => ({ tokenEndpoint: mtlsTokenEndpoint, clientId: 'cart-service', clientAuthentication: 'tls_client_auth', dispatcher })

  it('gets its own tokens with no secret, bound to its certificate', async () => {
    const token = await new ClientCredentials(options()).get({ scope: 'order.write' })
    expect(claimsOf(token)).toMatchObject({ client_id: 'cart-service', aud: 'order-service', cnf: { 'x5t#S256': certificateThumbprint(cart.certificate.raw) } })
  })

  it("exchanges a caller's token for several audiences, bound to its certificate", async () => {
    const token = await new TokenExchange(options()).exchange(user, { audience: ['payment-service', 'order-service'], scope: 'order.write payment.write' })
    expect(claimsOf(token)).toMatchObject({
      sub: 'web',
      aud: expect.arrayContaining(['order-service', 'payment-service']) as unknown,
      act: { sub: 'cart-service' },
      cnf: { 'x5t#S256': certificateThumbprint(cart.certificate.raw) },
    })
  })

  it.each([
    ['a secret beside the certificate', () => ({ ...options(), clientSecret: 'x'.repeat(32) }), 'clientSecret must not be given with tls_client_auth: the certificate is the credential'],
    ['no dispatcher to present the certificate', () => ({ ...options(), dispatcher: undefined }), "tls_client_auth needs a dispatcher presenting the workload's certificate (createMtlsAgent)"],
    ['a plain http token endpoint', () => ({ ...options(), tokenEndpoint: `${auth.issuer}/oauth2/token` }), "tls_client_auth needs an https tokenEndpoint: the server's mutual-TLS one (RFC 8705 §2)"],
    ['an unknown method', () => ({ ...options(), clientAuthentication: 'private_key_jwt' as never }), "clientAuthentication must be 'client_secret_basic' or 'tls_client_auth'"],
  ])('refuses %s', (_name, given, message) => {
    expect(() => new ClientCredentials(given())).toThrow(new TypeError(message))
  })

  it.each([
    [[], 'audience must be a non-empty string or a non-empty list of them'],
    [['order-service', ''], 'audience must be a non-empty string or a non-empty list of them'],
  ])('refuses the exchange audience %j', async (audience, message) => {
    await expect(new TokenExchange(options()).exchange(user, { audience })).rejects.toThrow(new TypeError(message))
  })
})
