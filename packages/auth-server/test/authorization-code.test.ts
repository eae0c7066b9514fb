import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeJwt } from 'jose'
import { registerUser } from '../src/index.js'
import { BrowserSession, csrfToken, formAction, pageText, pkcePair } from './helpers/browser-session.js'
import { basic, postForm, startTestServer, type OAuthResponse, type TestServer } from './helpers/test-server.js'

const WEB_REDIRECT = 'https://app.example.com/callback'
const PASSWORD = 'correct horse battery staple'

/**
 * The authorization code flow (RFC 6749 §4.1, RFC 7636, RFC 9207, OpenID Connect Core §3.1)
 * and refresh tokens, attack by attack: each row is a request an attacker or a broken client
 * sends, with the exact refusal.
 */
describe('authorization code with PKCE, refresh tokens', () => {
  let ts: TestServer
  let medium: TestServer
  const secrets: Record<string, string> = {}
  let aliceId: string

  beforeAll(async () => {
    ts = await startTestServer()
    medium = await startTestServer({ config: { tier: 'medium' } })
    for (const server of [ts, medium]) {
      await server.resource('api-a', ['a.read', 'a.write'])
      const user = await registerUser(server.server.context.store, { username: 'alice', password: PASSWORD, name: 'Alice', email: 'alice@example.com' }, now(server))
      aliceId = server === ts ? user.id : aliceId
      secrets[server === ts ? 'web' : 'medium-web'] = (await server.client({
        id: 'web',
        type: 'web',
        redirectUris: [WEB_REDIRECT],
        scopes: ['openid', 'profile', 'email', 'offline_access', 'a.read', 'a.write'],
      }))!
    }
    await registerUser(medium.server.context.store, { username: 'bob', password: PASSWORD }, now(medium))
    secrets.other = (await ts.client({ id: 'other', type: 'web', redirectUris: ['https://other.example.com/cb'], scopes: ['openid', 'a.read'] }))!
    await ts.client({ id: 'spa', type: 'spa', redirectUris: ['http://127.0.0.1:8080/cb'], scopes: ['openid', 'a.read'] })
    await ts.client({ id: 'native', type: 'native', redirectUris: ['http://127.0.0.1/cb', 'com.example.app:/oauth'], scopes: ['openid', 'a.read'] })
    secrets.service = (await ts.client({ id: 'service', scopes: ['a.read'] }))!
  })
  afterAll(async () => {
    for (const server of [ts, medium]) {
      await server.stop()
      server.cleanup()
    }
  })

  function now(server: TestServer): number {
    return Math.floor(server.clock.now() / 1000)
  }

  function authorizeUrl(params: Record<string, string | undefined>, server = ts): string {
    const url = new URL(`${server.baseUrl}/oauth2/authorize`)
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value)
    return url.href
  }

  function webRequest(overrides: Record<string, string | undefined> = {}, pkce = pkcePair()): Record<string, string | undefined> {
    return {
      response_type: 'code',
      client_id: 'web',
      redirect_uri: WEB_REDIRECT,
      scope: 'openid profile a.read',
      state: 'st-1',
      nonce: 'n-1',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      ...overrides,
    }
  }

  /** Signs alice in (consenting) and returns the code and the verifier it needs. */
  async function codeFor(overrides: Record<string, string | undefined> = {}, server = ts, browser = new BrowserSession()) {
    const pkce = pkcePair()
    const callback = await browser.authorize(authorizeUrl(webRequest(overrides, pkce), server), { username: 'alice', password: PASSWORD })
    const code = callback.searchParams.get('code')
    if (code === null) throw new Error(`no code in ${callback.href}`)
    return { code, verifier: pkce.verifier, callback, browser }
  }

  function redeem(code: string, verifier: string | undefined, extra: Record<string, string> = {}, client = 'web', server = ts): Promise<OAuthResponse> {
    const params: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, ...extra }
    if (verifier !== undefined) params.code_verifier = verifier
    const secret = server === ts ? secrets[client] : secrets['medium-web']
    return postForm(server.tokenEndpoint, params, { authorization: basic(client, secret!) })
  }

  function refresh(refreshToken: string, extra: Record<string, string> = {}, client = 'web'): Promise<OAuthResponse> {
    return postForm(ts.tokenEndpoint, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, { authorization: basic(client, secrets[client]!) })
  }

  async function active(token: string): Promise<boolean> {
    const response = await postForm(ts.introspectionEndpoint, { token }, { authorization: basic('service', secrets.service!) })
    return response.body.active === true
  }

  describe('a redirect_uri that is not exactly registered gets an error page and no redirect', () => {
    const rows: Array<[string, Record<string, string | undefined>, string]> = [
      ['upper-case host', { redirect_uri: 'https://APP.example.com/callback' }, 'the redirect_uri is not registered for this application'],
      ['explicit :443', { redirect_uri: 'https://app.example.com:443/callback' }, 'the redirect_uri is not registered for this application'],
      ['path in another case', { redirect_uri: 'https://app.example.com/Callback' }, 'the redirect_uri is not registered for this application'],
      ['extra query', { redirect_uri: 'https://app.example.com/callback?next=/admin' }, 'the redirect_uri is not registered for this application'],
      ['fragment', { redirect_uri: 'https://app.example.com/callback#x' }, 'the redirect_uri is not registered for this application'],
      ['user@host', { redirect_uri: 'https://attacker@app.example.com/callback' }, 'the redirect_uri is not registered for this application'],
      ['wildcard', { redirect_uri: 'https://*.example.com/callback' }, 'the redirect_uri is not registered for this application'],
      ['subdomain', { redirect_uri: 'https://evil.app.example.com/callback' }, 'the redirect_uri is not registered for this application'],
      ['trailing slash', { redirect_uri: 'https://app.example.com/callback/' }, 'the redirect_uri is not registered for this application'],
      ['another client\'s URI', { redirect_uri: 'https://other.example.com/cb' }, 'the redirect_uri is not registered for this application'],
      ['no redirect_uri', { redirect_uri: undefined }, 'the request names no redirect_uri'],
      ['no client_id', { client_id: undefined }, 'the request names no client (client_id is missing)'],
      ['unknown client', { client_id: 'nobody' }, 'the application that sent you here is not registered'],
      ['a service client', { client_id: 'service' }, 'this application cannot sign users in: it has no redirect URI'],
      ['native: localhost instead of the IP literal', { client_id: 'native', redirect_uri: 'http://localhost:51234/cb' }, 'the redirect_uri is not registered for this application'],
      ['native: loopback with another path', { client_id: 'native', redirect_uri: 'http://127.0.0.1:51234/other' }, 'the redirect_uri is not registered for this application'],
      ['spa: loopback with another port (only native apps may vary it)', { client_id: 'spa', redirect_uri: 'http://127.0.0.1:9090/cb' }, 'the redirect_uri is not registered for this application'],
    ]
    it.each(rows)('%s', async (_name, overrides, message) => {
      const response = await new BrowserSession().get(authorizeUrl(webRequest(overrides)))
      expect(response.status).toBe(400)
      expect(response.location).toBeUndefined()
      expect(pageText(response.html)).toContain(message)
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    })

    it('a parameter sent twice gets the error page too', async () => {
      const response = await new BrowserSession().get(`${authorizeUrl(webRequest())}&client_id=other`)
      expect(response.status).toBe(400)
      expect(response.location).toBeUndefined()
      expect(pageText(response.html)).toContain('parameter "client_id" is included more than once')
    })

    it('native apps may use any loopback port and their private-use scheme (RFC 8252 §7)', async () => {
      for (const redirect_uri of ['http://127.0.0.1:51234/cb', 'com.example.app:/oauth']) {
        const response = await new BrowserSession().get(authorizeUrl(webRequest({ client_id: 'native', redirect_uri, scope: 'openid' })))
        expect(response.status).toBe(302)
        expect(response.location).toContain('/interaction/')
      }
    })
  })

  describe('other faults are sent to the redirect URI with state and iss', () => {
    const rows: Array<[string, Record<string, string | undefined>, string, string]> = [
      ['missing response_type', { response_type: undefined }, 'invalid_request', 'response_type is required'],
      ['response_type=token', { response_type: 'token' }, 'unsupported_response_type', 'response_type "token" is not supported; use "code"'],
      ['response_type=id_token', { response_type: 'code id_token' }, 'unsupported_response_type', 'response_type "code id_token" is not supported; use "code"'],
      ['public client without PKCE', { client_id: 'spa', redirect_uri: 'http://127.0.0.1:8080/cb', scope: 'openid', code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request', 'PKCE is required: public clients must send a code_challenge with code_challenge_method=S256'],
      ['confidential client without PKCE in the high tier', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request', 'PKCE is required in the high tier: send a code_challenge with code_challenge_method=S256'],
      ['plain method', { code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) }, 'invalid_request', 'code_challenge_method "plain" is not supported; only S256 is'],
      ['challenge without a method (defaults to plain)', { code_challenge_method: undefined }, 'invalid_request', 'code_challenge_method is required and must be S256 (plain is not allowed)'],
      ['method without a challenge', { code_challenge: undefined }, 'invalid_request', 'code_challenge_method was sent without a code_challenge'],
      ['challenge too short', { code_challenge: 'abc' }, 'invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier'],
      ['challenge too long', { code_challenge: 'a'.repeat(44) }, 'invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier'],
      ['challenge with characters outside base64url', { code_challenge: `${'a'.repeat(42)}+` }, 'invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier'],
      ['no scope', { scope: undefined }, 'invalid_scope', 'scope is required'],
      ['scope outside the client', { scope: 'openid admin' }, 'invalid_scope', 'scope not allowed for this client: admin'],
      ['unknown resource', { resource: 'https://nowhere.example' }, 'invalid_target', 'not a registered resource server: https://nowhere.example'],
      ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request', 'response_mode "fragment" is not supported; use "query"'],
      ['request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported', 'request objects are not supported'],
      ['prompt=none without a session', { prompt: 'none' }, 'login_required', 'the user is not signed in'],
      ['prompt=none with another value', { prompt: 'none login' }, 'invalid_request', 'prompt=none cannot be combined with other values'],
      ['bad max_age', { max_age: '-1' }, 'invalid_request', 'max_age must be a non-negative integer'],
    ]
    it.each(rows)('%s', async (_name, overrides, error, description) => {
      const request = webRequest(overrides)
      const response = await new BrowserSession().get(authorizeUrl(request))
      expect(response.status).toBe(302)
      const location = new URL(response.location!)
      expect(`${location.origin}${location.pathname}`).toBe(request.redirect_uri)
      expect(location.searchParams.get('error')).toBe(error)
      expect(location.searchParams.get('error_description')).toContain(description)
      expect(location.searchParams.get('state')).toBe('st-1')
      expect(location.searchParams.get('iss')).toBe(ts.issuer)
      expect(location.searchParams.has('code')).toBe(false)
    })
  })

  describe('the sign-in and consent pages', () => {
    it('are framed by no one, run no script, and set a session cookie that is HttpOnly and SameSite=Lax', async () => {
      const browser = new BrowserSession()
      const start = await browser.get(authorizeUrl(webRequest()))
      const login = await browser.get(start.location!)
      expect(login.status).toBe(200)
      const csp = login.headers.get('content-security-policy')!
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).toContain("default-src 'none'")
      expect(csp).not.toContain('script-src')
      expect(login.headers.get('x-frame-options')).toBe('DENY')
      expect(login.headers.get('cache-control')).toBe('no-store')
      expect(login.html).toContain('<label for="username">Username</label>')
      expect(login.html).toContain('<label for="password">Password</label>')
      const signedIn = await browser.post(new URL(formAction(login.html)!, ts.baseUrl).href, { csrf_token: csrfToken(login.html), username: 'alice', password: PASSWORD })
      const cookie = signedIn.headers.getSetCookie().find((line) => line.startsWith('mg_session='))!
      expect(cookie).toMatch(/HttpOnly/i)
      expect(cookie).toMatch(/SameSite=Lax/i)
      // The issuer is plain HTTP on loopback, where a Secure cookie would be dropped.
      expect(cookie).not.toMatch(/Secure/i)
    })

    it('refuse a form without the page\'s CSRF token, and a sign-in link opened in another browser', async () => {
      const browser = new BrowserSession()
      const start = await browser.get(authorizeUrl(webRequest()))
      const login = await browser.get(start.location!)
      const action = new URL(formAction(login.html)!, ts.baseUrl).href
      const forged = await browser.post(action, { csrf_token: 'x'.repeat(22), username: 'alice', password: PASSWORD })
      expect(forged.status).toBe(403)
      expect(pageText(forged.html)).toContain('This form has expired')
      const elsewhere = await new BrowserSession().get(start.location!)
      expect(elsewhere.status).toBe(400)
      expect(pageText(elsewhere.html)).toContain('This sign-in link cannot be used here')
    })

    it('answer an unknown user and a wrong password alike, then throttle with 429 and Retry-After', async () => {
      const attempt = async (username: string) => {
        const browser = new BrowserSession()
        const start = await browser.get(authorizeUrl(webRequest(), medium))
        const login = await browser.get(start.location!)
        return browser.post(new URL(formAction(login.html)!, medium.baseUrl).href, { csrf_token: csrfToken(login.html), username, password: 'wrong password here' })
      }
      const unknown = await attempt('mallory')
      const wrong = await attempt('bob')
      for (const response of [unknown, wrong]) {
        expect(response.status).toBe(401)
        expect(/role="alert">([^<]*)</.exec(response.html)?.[1]).toBe('The username or password is incorrect.')
      }
      let throttled: Awaited<ReturnType<typeof attempt>> | undefined
      for (let i = 0; i < 6 && throttled === undefined; i++) {
        const response = await attempt('bob')
        if (response.status === 429) throttled = response
      }
      if (throttled === undefined) throw new Error('six more failures were never throttled')
      expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(pageText(throttled.html)).toMatch(/Too many failed attempts\. Try again in \d+ seconds?\./)
    })

    it('remember consent per client and scope set; a wider request asks again', async () => {
      const { browser } = await codeFor({ scope: 'openid a.read' })
      const again = await browser.get(authorizeUrl(webRequest({ scope: 'openid a.read' })))
      expect(new URL(again.location!).searchParams.get('code')).toMatch(/^mgac_/)
      const wider = await browser.get(authorizeUrl(webRequest({ scope: 'openid a.read a.write' })))
      const consent = await browser.get(wider.location!)
      expect(pageText(consent.html)).toContain('Allow access')
      expect(pageText(consent.html)).toContain('a.write')
      const silent = await browser.get(authorizeUrl(webRequest({ scope: 'openid a.write', prompt: 'none' })))
      expect(new URL(silent.location!).searchParams.get('error')).toBe('consent_required')
    })

    it('deny sends access_denied with the state', async () => {
      const browser = new BrowserSession()
      const callback = await browser.authorize(authorizeUrl(webRequest({ scope: 'openid email' })), { username: 'alice', password: PASSWORD, consent: 'deny' })
      expect(callback.searchParams.get('error')).toBe('access_denied')
      expect(callback.searchParams.get('state')).toBe('st-1')
      expect(callback.searchParams.get('iss')).toBe(ts.issuer)
    })
  })

  describe('redeeming the code', () => {
    it('gives an access token, a refresh token and an ID token with nonce, auth_time and at_hash', async () => {
      const { code, verifier, callback } = await codeFor({ scope: 'openid profile email a.read' })
      expect(callback.searchParams.get('state')).toBe('st-1')
      expect(callback.searchParams.get('iss')).toBe(ts.issuer)
      const response = await redeem(code, verifier)
      expect(response.status).toBe(200)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.body).toMatchObject({ token_type: 'Bearer', scope: 'openid profile email a.read' })
      expect(response.body.refresh_token).toMatch(/^mgrt_/)
      const access = decodeJwt(response.body.access_token as string)
      expect(access).toMatchObject({ sub: aliceId, client_id: 'web', aud: 'api-a', iss: ts.issuer })
      const id = decodeJwt(response.body.id_token as string)
      expect(id).toMatchObject({ iss: ts.issuer, sub: aliceId, aud: 'web', nonce: 'n-1', name: 'Alice', preferred_username: 'alice', email: 'alice@example.com' })
      expect(typeof id.auth_time).toBe('number')
      expect(id.at_hash).toHaveLength(22)
      const userinfo = await fetch(`${ts.baseUrl}/oauth2/userinfo`, { headers: { authorization: `Bearer ${response.body.access_token as string}` } })
      expect(await userinfo.json()).toEqual({ sub: aliceId, name: 'Alice', preferred_username: 'alice', email: 'alice@example.com' })
    })

    const rows: Array<[string, (c: { code: string; verifier: string }) => Promise<OAuthResponse>, string, string]> = [
      ['missing verifier', ({ code }) => redeem(code, undefined), 'invalid_grant', 'code_verifier is required: the authorization request had a code_challenge'],
      ['wrong verifier', ({ code }) => redeem(code, pkcePair().verifier), 'invalid_grant', 'code_verifier does not match the code_challenge'],
      ['malformed verifier', ({ code }) => redeem(code, 'short'), 'invalid_request', 'code_verifier must be 43-128 characters'],
      ['another client\'s code', ({ code, verifier }) => postForm(ts.tokenEndpoint, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://other.example.com/cb' }, { authorization: basic('other', secrets.other!) }), 'invalid_grant', 'authorization code was issued to another client'],
      ['redirect_uri mismatch', ({ code, verifier }) => redeem(code, verifier, { redirect_uri: 'https://app.example.com/other' }), 'invalid_grant', 'redirect_uri does not match the one of the authorization request'],
      ['no redirect_uri', ({ code, verifier }) => postForm(ts.tokenEndpoint, { grant_type: 'authorization_code', code, code_verifier: verifier }, { authorization: basic('web', secrets.web!) }), 'invalid_request', 'missing required parameter "redirect_uri"'],
      ['a made-up code', ({ verifier }) => redeem(`mgac_${'A'.repeat(43)}`, verifier), 'invalid_grant', 'authorization code is invalid'],
      ['a public client without PKCE (downgrade at the token endpoint)', ({ code }) => postForm(ts.tokenEndpoint, { grant_type: 'authorization_code', code, redirect_uri: WEB_REDIRECT, client_id: 'spa' }), 'invalid_grant', 'authorization code was issued to another client'],
    ]
    it.each(rows)('%s', async (_name, attempt, error, description) => {
      const code = await codeFor()
      const response = await attempt(code)
      expect(response.status).toBe(400)
      expect(response.body.error).toBe(error)
      expect(response.body.error_description).toContain(description)
      // The failed attempt did not burn the code: its rightful client still redeems it.
      expect((await redeem(code.code, code.verifier)).status).toBe(200)
    })

    it('an expired code is refused', async () => {
      const { code, verifier } = await codeFor()
      ts.clock.advance(61)
      try {
        const response = await redeem(code, verifier)
        expect(response.body).toMatchObject({ error: 'invalid_grant', error_description: 'authorization code has expired' })
      } finally {
        ts.clock.advance(-61)
      }
    })

    it('a verifier for a code that had no challenge is a downgrade and refused (medium tier, confidential client)', async () => {
      const plain = await codeFor({ code_challenge: undefined, code_challenge_method: undefined }, medium)
      const response = await redeem(plain.code, pkcePair().verifier, {}, 'web', medium)
      expect(response.body).toMatchObject({ error: 'invalid_grant', error_description: 'code_verifier sent, but the authorization request had no code_challenge' })
      expect((await redeem(plain.code, undefined, {}, 'web', medium)).status).toBe(200)
    })

    it('a second redemption fails and revokes what the first one issued', async () => {
      const { code, verifier } = await codeFor({ scope: 'openid a.read' })
      const first = await redeem(code, verifier)
      expect(first.status).toBe(200)
      expect(await active(first.body.access_token as string)).toBe(true)
      const second = await redeem(code, verifier)
      expect(second.body).toMatchObject({ error: 'invalid_grant', error_description: 'authorization code was already used; the tokens issued for it are revoked' })
      expect(await active(first.body.access_token as string)).toBe(false)
      expect((await refresh(first.body.refresh_token as string)).body.error).toBe('invalid_grant')
    })

    it('twenty parallel redemptions of one code yield exactly one token set', async () => {
      const { code, verifier } = await codeFor({ scope: 'openid a.read' })
      const responses = await Promise.all(Array.from({ length: 20 }, () => redeem(code, verifier)))
      expect(responses.filter((response) => response.status === 200)).toHaveLength(1)
      for (const response of responses.filter((r) => r.status !== 200)) expect(response.body.error).toBe('invalid_grant')
    })

    it('a public client redeems with PKCE and no secret', async () => {
      const pkce = pkcePair()
      const callback = await new BrowserSession().authorize(
        authorizeUrl(webRequest({ client_id: 'spa', redirect_uri: 'http://127.0.0.1:8080/cb', scope: 'openid a.read' }, pkce)),
        { username: 'alice', password: PASSWORD },
      )
      const response = await postForm(ts.tokenEndpoint, {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: 'http://127.0.0.1:8080/cb',
        client_id: 'spa',
        code_verifier: pkce.verifier,
      })
      expect(response.status).toBe(200)
      expect(response.body.refresh_token).toMatch(/^mgrt_/)
      const introspection = await postForm(ts.introspectionEndpoint, { token: response.body.access_token as string, client_id: 'spa' })
      expect(introspection.body).toMatchObject({ error: 'invalid_client', error_description: 'public clients cannot introspect tokens' })
    })
  })

  describe('refresh tokens', () => {
    async function tokens(scope = 'openid profile a.read a.write offline_access') {
      const { code, verifier } = await codeFor({ scope })
      return (await redeem(code, verifier)).body as { access_token: string; refresh_token: string }
    }

    it('rotate on every use; a narrower scope narrows the access token only', async () => {
      const first = await tokens()
      const narrowed = await refresh(first.refresh_token, { scope: 'a.read' })
      expect(narrowed.status).toBe(200)
      expect(narrowed.body.scope).toBe('a.read')
      expect(narrowed.body.refresh_token).not.toBe(first.refresh_token)
      expect(narrowed.body.id_token).toBeUndefined()
      const full = await refresh(narrowed.body.refresh_token as string)
      expect(full.body.scope).toBe('openid profile a.read a.write offline_access')
      expect(decodeJwt(full.body.id_token as string)).toMatchObject({ sub: aliceId, aud: 'web' })
    })

    const rows: Array<[string, (refreshToken: string) => Promise<OAuthResponse>, string, string]> = [
      ['another client\'s refresh token', (token) => refresh(token, {}, 'other'), 'invalid_grant', 'refresh token was issued to another client'],
      ['a wider scope', (token) => refresh(token, { scope: 'a.read admin' }), 'invalid_scope', 'scope wider than the grant: admin'],
      ['a made-up token', () => refresh(`mgrt_${'B'.repeat(43)}`), 'invalid_grant', 'refresh token is invalid'],
      ['an access token in its place', async (token) => refresh((await refresh(token)).body.access_token as string), 'invalid_grant', 'refresh token is invalid'],
    ]
    it.each(rows)('%s', async (_name, attempt, error, description) => {
      const { refresh_token } = await tokens()
      const response = await attempt(refresh_token)
      expect(response.status).toBe(400)
      expect(response.body).toMatchObject({ error, error_description: description })
    })

    it('reuse of a rotated-out token revokes the whole grant', async () => {
      const first = await tokens()
      const second = await refresh(first.refresh_token)
      expect(second.status).toBe(200)
      const reuse = await refresh(first.refresh_token)
      expect(reuse.body).toMatchObject({ error: 'invalid_grant', error_description: 'refresh token was already used; the grant is revoked' })
      expect((await refresh(second.body.refresh_token as string)).body).toMatchObject({ error: 'invalid_grant', error_description: 'the grant of this refresh token has ended' })
      expect(await active(second.body.access_token as string)).toBe(false)
      expect(await active(first.access_token)).toBe(false)
    })

    it('expire after the idle lifetime, and never outlive an online grant\'s session', async () => {
      const idle = ts.server.context.config.authorization.refreshTokenIdleTtlSec
      const offline = await tokens()
      ts.clock.advance(idle + 1)
      try {
        expect((await refresh(offline.refresh_token)).body).toMatchObject({ error: 'invalid_grant', error_description: 'refresh token has expired' })
      } finally {
        ts.clock.advance(-(idle + 1))
      }
      const online = await tokens('openid a.read')
      const session = ts.server.context.config.authorization.sessionTtlSec
      ts.clock.advance(session + 1)
      try {
        expect((await refresh(online.refresh_token)).body).toMatchObject({ error: 'invalid_grant', error_description: 'refresh token has expired' })
      } finally {
        ts.clock.advance(-(session + 1))
      }
    })
  })
})
