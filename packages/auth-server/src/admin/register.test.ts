import { describe, expect, it } from 'vitest'
import { verifyClientSecret } from '../crypto/client-secret.js'
import type { ClientRecord, ResourceServerRecord } from '../store/store.js'
import { registerClient, registerResourceServer, type ClientInput } from './register.js'

const NOW = 1_700_000_000
const SECRET = 'Q2xpZW50U2VjcmV0Rm9yVGVzdGluZ09ubHlfMDEyMzQ1'
const PUBLIC_JWK = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }

/** The two store calls registration makes, over scopes `orders.read` and `orders.write` of `orders`. */
function fakeStore() {
  const clients: ClientRecord[] = []
  const resources: ResourceServerRecord[] = []
  return {
    clients,
    resources,
    resolveScopes: (scopes: readonly string[]) => Promise.resolve(new Map(scopes.filter((scope) => scope.startsWith('orders.')).map((scope) => [scope, 'orders']))),
    createClient: (client: ClientRecord) => {
      clients.push(client)
      return Promise.resolve()
    },
    createResourceServer: (resource: ResourceServerRecord) => {
      resources.push(resource)
      return Promise.resolve()
    },
  }
}

/** The problems `registerClient` refused `input` for, in order. */
async function problems(input: ClientInput): Promise<string[]> {
  const error = await registerClient(fakeStore(), input, NOW).then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  return (error as Error).message.split('; ')
}

// Until the authorization_code and refresh_token grants are served, registering a web, spa or
// native client is refused with `grant "authorization_code" is not supported`.
describe('registerClient: clients with a user behind them', () => {
  it('registers a spa client without a secret, with both user grants and its redirect URIs once each', async () => {
    const store = fakeStore()
    const redirect = 'https://shop.example.com/callback'
    const { client, secret } = await registerClient(
      store,
      { id: 'shop', type: 'spa', scopes: ['openid', 'profile', 'orders.read'], redirectUris: [redirect, redirect], postLogoutRedirectUris: ['https://shop.example.com/'] },
      NOW,
    )
    expect(secret).toBeUndefined()
    expect(client).toEqual({
      id: 'shop',
      type: 'spa',
      redirectUris: [redirect],
      postLogoutRedirectUris: ['https://shop.example.com/'],
      secretHash: null,
      jwks: null,
      tlsClientAuthSanUri: null,
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'profile', 'orders.read'],
      mayAct: null,
      tokenFormat: 'jwt',
      phantomTokens: false,
      createdAt: NOW,
    })
    expect(store.clients).toEqual([client])
  })

  it('registers a native client with a loopback and a private-use redirect URI', async () => {
    const redirectUris = ['http://127.0.0.1/callback', 'com.example.shop:/callback']
    const { client, secret } = await registerClient(fakeStore(), { id: 'shop-app', type: 'native', scopes: ['openid', 'offline_access'], redirectUris }, NOW)
    expect(secret).toBeUndefined()
    expect(client).toMatchObject({ type: 'native', redirectUris, secretHash: null })
  })

  it('gives a web client a secret, and lets it add client_credentials', async () => {
    const { client, secret } = await registerClient(
      fakeStore(),
      { id: 'portal', type: 'web', scopes: ['openid', 'orders.read'], redirectUris: ['https://portal.example.com/cb'], grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] },
      NOW,
    )
    expect(verifyClientSecret(secret!, client.secretHash!)).toBe(true)
    expect(client).toMatchObject({ type: 'web', grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] })
  })

  it('lets a web client authenticate with private_key_jwt instead', async () => {
    const { client, secret } = await registerClient(fakeStore(), { id: 'portal', type: 'web', scopes: [], redirectUris: ['https://portal.example.com/cb'], jwks: [PUBLIC_JWK] }, NOW)
    expect(secret).toBeUndefined()
    expect(client).toMatchObject({ secretHash: null, jwks: [PUBLIC_JWK] })
  })
})

describe('registerClient: refusals', () => {
  const spa = { id: 'shop', type: 'spa', scopes: ['orders.read'], redirectUris: ['https://shop.example.com/callback'] } as const satisfies ClientInput
  const service = { id: 'job', scopes: ['orders.read'] } as const satisfies ClientInput

  it.each<[string, ClientInput, string]>([
    ['an unknown type', { ...spa, type: 'sap' as ClientInput['type'] }, 'client type "sap" is not supported (supported: service, web, spa, native)'],
    ['a service client with a redirect URI', { ...service, redirectUris: ['https://job.example.com/cb'] }, 'a service client has no user to send back: it takes no redirect URIs'],
    ['a service client with a post-logout redirect URI', { ...service, postLogoutRedirectUris: ['https://job.example.com/'] }, 'a service client has no user to send back: it takes no redirect URIs'],
    ['a service client with the authorization code grant', { ...service, grantTypes: ['authorization_code'] }, 'grant "authorization_code" is not for a service client: it acts for itself, with no user behind it'],
    ['a service client with the refresh token grant', { ...service, grantTypes: ['client_credentials', 'refresh_token'] }, 'grant "refresh_token" is not for a service client: it acts for itself, with no user behind it'],
    ['a service client with OpenID Connect scopes', { ...service, scopes: ['orders.read', 'openid', 'email'] }, 'a service client has no user, so no OpenID Connect scopes: openid email'],
    ['a spa client with a secret', { ...spa, secret: SECRET }, 'a spa client is public (RFC 6749 §2.1): it takes no secret, keys or tls_client_auth SPIFFE ID, and proves itself with PKCE instead'],
    ['a native client with keys', { ...spa, type: 'native', jwks: [PUBLIC_JWK] }, 'a native client is public (RFC 6749 §2.1): it takes no secret, keys or tls_client_auth SPIFFE ID, and proves itself with PKCE instead'],
    ['a spa client with a tls_client_auth SPIFFE ID', { ...spa, tlsClientAuthSanUri: 'spiffe://example.org/ns/shop/sa/web' }, 'a spa client is public (RFC 6749 §2.1): it takes no secret, keys or tls_client_auth SPIFFE ID, and proves itself with PKCE instead'],
    ['a spa client with client credentials', { ...spa, grantTypes: ['authorization_code', 'client_credentials'] }, 'grant "client_credentials" is not for a spa client: it is public (RFC 6749 §2.1) and may use only authorization_code and refresh_token'],
    ['a native client with token exchange', { ...spa, type: 'native', grantTypes: ['authorization_code', 'urn:ietf:params:oauth:grant-type:token-exchange'] }, 'grant "urn:ietf:params:oauth:grant-type:token-exchange" is not for a native client: it is public (RFC 6749 §2.1) and may use only authorization_code and refresh_token'],
    ['a client with a user but without the authorization code grant', { ...spa, type: 'web', grantTypes: ['client_credentials'] }, 'a web client needs the authorization_code grant'],
    ['a web client without a redirect URI', { id: 'portal', type: 'web', scopes: [] }, 'a web client needs at least one redirect URI'],
    ['a native client with an empty redirect URI list', { ...spa, type: 'native', redirectUris: [] }, 'a native client needs at least one redirect URI'],
    ['offline_access without refresh tokens', { ...spa, scopes: ['openid', 'offline_access'], grantTypes: ['authorization_code'] }, 'scope "offline_access" needs the refresh_token grant'],
    ['a wildcard redirect URI', { ...spa, redirectUris: ['https://*.example.com/callback'] }, 'redirect URI "https://*.example.com/callback" must not contain a wildcard "*" (RFC 9700 §4.1.3)'],
    ['a post-logout redirect URI with a fragment', { ...spa, postLogoutRedirectUris: ['https://shop.example.com/#bye'] }, 'post-logout redirect URI "https://shop.example.com/#bye" must not have a fragment (RFC 6749 §3.1.2)'],
    ['localhost for a native client', { ...spa, type: 'native', redirectUris: ['http://localhost:8080/cb'] }, 'redirect URI "http://localhost:8080/cb" may use http only with the loopback IP literal 127.0.0.1 or [::1] (RFC 8252 §7.3, §8.3)'],
    ['a scope no resource server defines', { ...spa, scopes: ['openid', 'nope.read'] }, 'scopes not defined by any resource server: nope.read (register them with "meshguard resource create")'],
  ])('refuses %s', async (_name, input, problem) => {
    expect(await problems(input)).toContain(problem)
  })

  it('reports every problem at once', async () => {
    const input: ClientInput = { ...spa, secret: SECRET, grantTypes: ['authorization_code', 'client_credentials'], redirectUris: ['http://shop.example.com/*'] }
    expect(await problems(input)).toEqual(
      expect.arrayContaining([
        'grant "client_credentials" is not for a spa client: it is public (RFC 6749 §2.1) and may use only authorization_code and refresh_token',
        'redirect URI "http://shop.example.com/*" must not contain a wildcard "*" (RFC 9700 §4.1.3)',
        'a spa client is public (RFC 6749 §2.1): it takes no secret, keys or tls_client_auth SPIFFE ID, and proves itself with PKCE instead',
      ]),
    )
  })
})

describe('registerResourceServer', () => {
  it('leaves the OpenID Connect scopes to the authorization server', async () => {
    await expect(registerResourceServer(fakeStore(), { id: 'profiles', scopes: ['profile', 'profiles.read'] }, NOW)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'scope "profile" belongs to OpenID Connect and is served by the authorization server itself',
    })
  })
})
