import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Provider, errors } from 'oidc-provider'
import { createVerifier, type Verifier } from '../src/index.js'

const RESOURCE = 'urn:meshguard-test:orders'

/**
 * Tokens from a second, independent issuer (panva's oidc-provider, ES256 JWT access tokens per
 * RFC 9068) verify when the verifier is configured for that issuer, and are refused when not.
 */
describe('interoperability with oidc-provider as the issuer', () => {
  let http: Server
  let issuer: string
  const secret = randomBytes(32).toString('base64url')
  const verifiers: Verifier[] = []

  beforeAll(async () => {
    http = createServer()
    await new Promise<void>((resolve) => {
      http.listen(0, '127.0.0.1', resolve)
    })
    issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'reports',
          client_secret: secret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
          scope: 'orders.read',
          id_token_signed_response_alg: 'ES256',
        },
      ],
      jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'op-1', alg: 'ES256', use: 'sig' }] },
      scopes: ['orders.read'],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          getResourceServerInfo: (_ctx: unknown, resource: string) => {
            if (resource !== RESOURCE) throw new errors.InvalidTarget('unknown resource')
            return { scope: 'orders.read', audience: 'orders', accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }
          },
        },
      },
    })
    http.on('request', provider.callback())
  })
  afterAll(async () => {
    for (const verifier of verifiers) verifier.close()
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
  })

  const token = async () => {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`reports:${secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials&scope=orders.read',
    })
    return ((await response.json()) as { access_token: string }).access_token
  }
  const verifierFor = async (trustedIssuer: string) => {
    const verifier = createVerifier({ issuer: trustedIssuer, audience: 'orders', jwksUri: `${issuer}/jwks` })
    verifiers.push(verifier)
    await verifier.start()
    return verifier
  }

  it('verifies its tokens when configured for it', async () => {
    const verified = await (await verifierFor(issuer)).verify(await token())
    expect(verified).toMatchObject({ clientId: 'reports', chain: [] })
    expect([...verified.scopes]).toEqual(['orders.read'])
  })

  it('refuses them when configured for another issuer', async () => {
    await expect((await verifierFor('https://auth.meshguard.test')).verify(await token())).rejects.toMatchObject({ code: 'ERR_TOKEN_ISSUER' })
  })
})
