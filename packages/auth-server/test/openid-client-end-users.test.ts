import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as client from 'openid-client'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { registerUser, type UserRecord } from '../src/index.js'
import { BrowserSession } from './helpers/browser-session.js'
import { startTestServer, type TestServer } from './helpers/test-server.js'

const PASSWORD = 'correct horse battery'
const WEB_CALLBACK = 'https://web.example.com/callback'
const WEB_SIGNED_OUT = 'https://web.example.com/signed-out'
const SPA_CALLBACK = 'http://localhost:5173/callback'
const NATIVE_CALLBACK = 'http://127.0.0.1/callback'

/**
 * panva's openid-client, a relying party written elsewhere, through the end-user flows of a
 * running server: authorization code with PKCE for web, SPA and native clients, ID tokens,
 * UserInfo, refresh token rotation and RP-initiated logout. The browser is {@link BrowserSession}.
 */
describe('end-user flows with openid-client', () => {
  let ts: TestServer
  let alice: UserRecord
  let webSecret: string

  beforeAll(async () => {
    ts = await startTestServer()
    await ts.resource('orders-api', ['orders.read', 'orders.write'])
    alice = await registerUser(
      ts.server.context.store,
      { username: 'alice', password: PASSWORD, name: 'Alice Liddell', email: 'alice@example.com' },
      nowSec(),
    )
    webSecret = (await ts.client({
      id: 'web',
      type: 'web',
      scopes: ['openid', 'profile', 'email', 'offline_access', 'orders.read'],
      redirectUris: [WEB_CALLBACK],
      postLogoutRedirectUris: [WEB_SIGNED_OUT],
    }))!
    await ts.client({ id: 'spa', type: 'spa', scopes: ['openid', 'profile', 'orders.read', 'orders.write'], redirectUris: [SPA_CALLBACK] })
    await ts.client({ id: 'native', type: 'native', scopes: ['openid', 'profile', 'offline_access'], redirectUris: [NATIVE_CALLBACK] })
  })
  afterAll(async () => {
    await ts.stop()
    ts.cleanup()
  })

  function nowSec(): number {
    return Math.floor(ts.clock.now() / 1000)
  }

  async function configFor(id: string, auth: client.ClientAuth): Promise<client.Configuration> {
    // Plain http is loopback-only here; the server refuses an http issuer anywhere else.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const config = await client.discovery(new URL(ts.issuer), id, undefined, auth, { execute: [client.allowInsecureRequests] })
    // Also verify the ID token's signature from jwks_uri, which openid-client skips by default for a TLS-protected token response.
    client.enableNonRepudiationChecks(config)
    return config
  }

  const webConfig = () => configFor('web', client.ClientSecretBasic(webSecret))

  interface SignIn {
    redirectUri: string
    scope: string
    browser?: BrowserSession
    /** Where the browser ends up instead of `redirectUri`, as a native app's listener receives it. */
    deliver?: (callback: URL) => Promise<URL>
  }

  /** One authorization code flow, as a relying party runs it: PKCE, state and nonce, every check of the response. */
  async function signIn(config: client.Configuration, { redirectUri, scope, browser = new BrowserSession(), deliver }: SignIn) {
    const pkceCodeVerifier = client.randomPKCECodeVerifier()
    const expectedState = client.randomState()
    const expectedNonce = client.randomNonce()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      state: expectedState,
      nonce: expectedNonce,
    })
    const signedInAt = nowSec()
    const callback = await browser.authorize(url.href, { username: 'alice', password: PASSWORD })
    const received = deliver ? await deliver(callback) : callback
    const tokens = await client.authorizationCodeGrant(config, received, { pkceCodeVerifier, expectedState, expectedNonce, idTokenExpected: true })
    return { tokens, claims: tokens.claims()!, nonce: expectedNonce, signedInAt, browser, callback }
  }

  /** OpenID Connect Core §3.1.3.6: the left half of the access token's SHA-256 (ES256), base64url. */
  function atHash(accessToken: string): string {
    return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url')
  }

  it('signs a user in to a confidential web client: ID token, access token and refresh token as registered', async () => {
    const config = await webConfig()
    const { tokens, claims, nonce, signedInAt, callback } = await signIn(config, {
      redirectUri: WEB_CALLBACK,
      scope: 'openid profile email offline_access orders.read',
    })

    // RFC 9207: openid-client checked it too; the callback names this issuer.
    expect(callback.searchParams.get('iss')).toBe(ts.issuer)
    expect(claims).toMatchObject({
      iss: ts.issuer,
      aud: 'web',
      sub: alice.id,
      auth_time: signedInAt,
      nonce,
      at_hash: atHash(tokens.access_token),
      name: 'Alice Liddell',
      email: 'alice@example.com',
      preferred_username: 'alice',
    })
    expect(tokens.token_type).toBe('bearer')
    expect(tokens.scope).toBe('openid profile email offline_access orders.read')
    expect(tokens.refresh_token).toEqual(expect.any(String))

    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(ts.jwksUri)), {
      issuer: ts.issuer,
      audience: 'orders-api',
      typ: 'at+jwt',
      currentDate: new Date(ts.clock.now()),
    })
    expect(payload).toMatchObject({ sub: alice.id, client_id: 'web', scope: 'openid profile email offline_access orders.read' })
  })

  it('answers UserInfo with the claims of the ID token', async () => {
    const config = await webConfig()
    const { tokens, claims } = await signIn(config, { redirectUri: WEB_CALLBACK, scope: 'openid profile email orders.read' })

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
    expect(userinfo).toEqual({ sub: alice.id, name: 'Alice Liddell', email: 'alice@example.com', preferred_username: 'alice' })
  })

  it('rotates the refresh token, and revokes the grant when a rotated-out one comes back', async () => {
    const config = await webConfig()
    const { tokens, claims } = await signIn(config, { redirectUri: WEB_CALLBACK, scope: 'openid profile orders.read' })
    const original = tokens.refresh_token!
    ts.clock.advance(60)

    const refreshed = await client.refreshTokenGrant(config, original)
    const rotated = refreshed.refresh_token!
    expect(rotated).toEqual(expect.any(String))
    expect(rotated).not.toBe(original)
    expect(refreshed.scope).toBe('openid profile orders.read')
    // OpenID Connect Core §12.2: same subject and authentication time, newly issued, no nonce.
    const refreshedClaims = refreshed.claims()!
    expect(refreshedClaims).toMatchObject({ iss: ts.issuer, aud: 'web', sub: claims.sub, auth_time: claims.auth_time, iat: claims.iat + 60 })
    expect(refreshedClaims.nonce).toBeUndefined()
    expect(refreshedClaims.at_hash).toBe(atHash(refreshed.access_token))

    // RFC 9700 §4.14.2: the reuse is refused, and ends the grant for the legitimate holder too.
    await expect(client.refreshTokenGrant(config, original)).rejects.toMatchObject({ status: 400, error: 'invalid_grant' })
    await expect(client.refreshTokenGrant(config, rotated)).rejects.toMatchObject({ status: 400, error: 'invalid_grant' })
    // RFC 6750 §3.1: the access token issued under the grant is revoked with it.
    await expect(client.fetchUserInfo(config, refreshed.access_token, claims.sub)).rejects.toMatchObject({
      status: 401,
      cause: [{ scheme: 'bearer', parameters: expect.objectContaining({ error: 'invalid_token' }) }],
    })
  })

  it('signs a user in to a public SPA with PKCE alone; a refresh narrows the scope but cannot widen it', async () => {
    const config = await configFor('spa', client.None())
    const { tokens, claims } = await signIn(config, { redirectUri: SPA_CALLBACK, scope: 'openid profile orders.read' })
    expect(claims).toMatchObject({ aud: 'spa', sub: alice.id, preferred_username: 'alice' })
    expect(tokens.scope).toBe('openid profile orders.read')

    const narrowed = await client.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid' })
    expect(narrowed.scope).toBe('openid')
    const { payload } = await jwtVerify(narrowed.access_token, createRemoteJWKSet(new URL(ts.jwksUri)), {
      issuer: ts.issuer,
      typ: 'at+jwt',
      currentDate: new Date(ts.clock.now()),
    })
    expect(payload).toMatchObject({ sub: alice.id, client_id: 'spa', scope: 'openid', aud: ts.issuer })
    expect(narrowed.claims()).toMatchObject({ sub: alice.id, auth_time: claims.auth_time })

    // orders.write is the client's, but was never granted: RFC 6749 §6 refuses anything beyond the grant.
    await expect(client.refreshTokenGrant(config, narrowed.refresh_token!, { scope: 'openid orders.read orders.write' })).rejects.toMatchObject({
      status: 400,
      error: 'invalid_scope',
    })
    // The narrowing was for that access token only: the grant still holds what the user consented to.
    const restored = await client.refreshTokenGrant(config, narrowed.refresh_token!)
    expect(restored.scope).toBe('openid profile orders.read')
  })

  it('accepts a native app on the loopback port it picked at run time (RFC 8252 §7.3)', async () => {
    const app = await loopbackListener()
    try {
      const redirectUri = `http://127.0.0.1:${app.port}/callback`
      const config = await configFor('native', client.None())
      const { tokens, claims, callback } = await signIn(config, { redirectUri, scope: 'openid profile offline_access', deliver: app.receive })
      expect(callback.origin).toBe(`http://127.0.0.1:${app.port}`)
      expect(claims).toMatchObject({ aud: 'native', sub: alice.id, preferred_username: 'alice' })
      expect(tokens.scope).toBe('openid profile offline_access')
      expect(tokens.refresh_token).toEqual(expect.any(String))
    } finally {
      await app.close()
    }
  })

  it('logs out: back to the registered URI with state, session gone, online grants revoked, offline ones kept', async () => {
    const config = await webConfig()
    const online = await signIn(config, { redirectUri: WEB_CALLBACK, scope: 'openid profile orders.read' })
    const { browser } = online
    const offline = await signIn(config, { redirectUri: WEB_CALLBACK, scope: 'openid offline_access orders.read', browser })

    const state = client.randomState()
    const logout = client.buildEndSessionUrl(config, { id_token_hint: online.tokens.id_token!, post_logout_redirect_uri: WEB_SIGNED_OUT, state })
    const response = await browser.get(logout.href)
    expect(response.status).toBe(302)
    expect(response.location).toBe(`${WEB_SIGNED_OUT}?state=${state}`)

    const expectedState = client.randomState()
    const silent = client.buildAuthorizationUrl(config, {
      redirect_uri: WEB_CALLBACK,
      scope: 'openid',
      prompt: 'none',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: expectedState,
    })
    const answer = await browser.get(silent.href)
    expect(answer.location?.startsWith(`${WEB_CALLBACK}?`)).toBe(true)
    // OpenID Connect Core §3.1.2.6, checked by openid-client with the RFC 9207 issuer and the state.
    await expect(client.authorizationCodeGrant(config, new URL(answer.location!), { expectedState })).rejects.toMatchObject({
      error: 'login_required',
    })

    await expect(client.refreshTokenGrant(config, online.tokens.refresh_token!)).rejects.toMatchObject({ status: 400, error: 'invalid_grant' })
    const kept = await client.refreshTokenGrant(config, offline.tokens.refresh_token!)
    expect(kept.claims()).toMatchObject({ sub: alice.id, auth_time: offline.claims.auth_time })
  })

  it('advertises the end-user endpoints and capabilities in its discovery document', async () => {
    const config = await configFor('spa', client.None())
    const metadata = config.serverMetadata()
    expect(metadata).toMatchObject({
      issuer: ts.issuer,
      authorization_endpoint: `${ts.baseUrl}/oauth2/authorize`,
      userinfo_endpoint: `${ts.baseUrl}/oauth2/userinfo`,
      end_session_endpoint: `${ts.baseUrl}/oauth2/logout`,
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code'],
      authorization_response_iss_parameter_supported: true,
    })
    expect(metadata.token_endpoint_auth_methods_supported).toContain('none')
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']))
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']))
  })
})

/**
 * What a native app does (RFC 8252 §7.3): listens on an ephemeral loopback port and receives the
 * authorization response there. `receive` has the browser follow the final redirect.
 */
async function loopbackListener(): Promise<{ port: number; receive: (callback: URL) => Promise<URL>; close: () => Promise<void> }> {
  let received: URL | undefined
  const server = createServer((request, response) => {
    received = new URL(request.url ?? '/', `http://${request.headers.host ?? '127.0.0.1'}`)
    response.writeHead(200, { 'content-type': 'text/plain' }).end('You may close this window.')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    port,
    async receive(callback) {
      const response = await fetch(callback, { redirect: 'manual' })
      await response.text()
      if (received === undefined) throw new Error(`the app received nothing at ${callback.href}`)
      return received
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err)
          else resolve()
        })
      }),
  }
}
