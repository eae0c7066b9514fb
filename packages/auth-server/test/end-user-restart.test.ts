import { afterAll, describe, expect, it } from 'vitest'
import { registerUser } from '../src/index.js'
import { BrowserSession, pkcePair } from './helpers/browser-session.js'
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js'
import { basic, postForm, startTestServer, TestClock, type TestServer } from './helpers/test-server.js'

const REDIRECT = 'https://app.example.com/callback'
const PASSWORD = 'correct horse battery staple'

/**
 * A restart loses nothing of what end users left behind: the browser's session, the consent
 * given, refresh tokens (and which were rotated out) and used codes, on SQLite and PostgreSQL.
 */
let database: TestDatabase | undefined
afterAll(async () => database?.drop())

describe.each([
  ['SQLite', () => Promise.resolve({})],
  ['PostgreSQL', async () => {
    database = await createTestDatabase()
    return { databaseUrl: database.url }
  }],
] as const)('end users across a restart on %s', (_backend, backendOptions) => {
  it('keeps sessions, consents, refresh tokens and used codes', async () => {
    const clock = new TestClock()
    const first = await startTestServer({ ...(await backendOptions()), clock })
    await first.resource('api', ['api.read'])
    const secret = (await first.client({ id: 'web', type: 'web', redirectUris: [REDIRECT], scopes: ['openid', 'api.read'] }))!
    await registerUser(first.server.context.store, { username: 'alice', password: PASSWORD }, Math.floor(clock.now() / 1000))

    const authorizeUrl = (ts: TestServer, challenge: string, prompt?: string) => {
      const url = new URL(`${ts.baseUrl}/oauth2/authorize`)
      const params = { response_type: 'code', client_id: 'web', redirect_uri: REDIRECT, scope: 'openid api.read', state: 's', code_challenge: challenge, code_challenge_method: 'S256', ...(prompt && { prompt }) }
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
      return url.href
    }
    const redeem = (ts: TestServer, code: string, verifier: string) =>
      postForm(ts.tokenEndpoint, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, { authorization: basic('web', secret) })
    const refresh = (ts: TestServer, token: string) => postForm(ts.tokenEndpoint, { grant_type: 'refresh_token', refresh_token: token }, { authorization: basic('web', secret) })

    const browser = new BrowserSession()
    const pkce = pkcePair()
    const callback = await browser.authorize(authorizeUrl(first, pkce.challenge), { username: 'alice', password: PASSWORD })
    const code = callback.searchParams.get('code')!
    const tokens = (await redeem(first, code, pkce.verifier)).body
    const rotated = (await refresh(first, tokens.refresh_token as string)).body
    expect(rotated.refresh_token).toMatch(/^mgrt_/)
    await first.stop()

    const second = await startTestServer({
      dataDir: first.dataDir,
      databaseUrl: first.server.context.config.databaseUrl,
      keyEncryptionKey: first.keyEncryptionKey,
      clock,
      config: { port: Number(new URL(first.issuer).port) },
    })
    try {
      // The session cookie and the consent still hold: a silent authorization gets a code at once.
      const again = pkcePair()
      const silent = await browser.get(authorizeUrl(second, again.challenge, 'none'))
      expect(new URL(silent.location!).searchParams.get('code')).toMatch(/^mgac_/)
      // The current refresh token still rotates.
      const next = await refresh(second, rotated.refresh_token as string)
      expect(next.status).toBe(200)
      // The used code is still known as used: its replay is refused and revokes the grant.
      expect((await redeem(second, code, pkce.verifier)).body).toMatchObject({
        error: 'invalid_grant',
        error_description: 'authorization code was already used; the tokens issued for it are revoked',
      })
      expect((await refresh(second, next.body.refresh_token as string)).body).toMatchObject({ error: 'invalid_grant' })
      // The rotated-out refresh token is still recognised as such.
      expect((await refresh(second, tokens.refresh_token as string)).body).toMatchObject({
        error: 'invalid_grant',
        error_description: 'refresh token was already used; the grant is revoked',
      })
    } finally {
      await second.stop()
      second.cleanup()
    }
  })
})
