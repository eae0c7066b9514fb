import { randomUUID } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js'
import { basic, postForm, startTestServer, TestClock, type TestServer, type TestServerOptions } from './helpers/test-server.js'

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/**
 * A restart loses nothing: clients, keys, revocations and used assertion `jti`s are all in the
 * store, on SQLite and on PostgreSQL.
 */
let database: TestDatabase | undefined
afterAll(async () => database?.drop())

describe.each([
  ['SQLite', () => Promise.resolve({})],
  ['PostgreSQL', async () => {
    database = await createTestDatabase()
    return { databaseUrl: database.url }
  }],
] as const)('restart on %s', (_backend, backendOptions) => {

  it('keeps clients, keys, revocations and used jtis', async () => {
    const clock = new TestClock()
    const first: TestServer = await startTestServer({ ...(await backendOptions()), clock } satisfies TestServerOptions)
    await first.resource('api', ['api.read'])
    const secret = (await first.client({ id: 'svc', scopes: ['api.read'] }))!
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    await first.client({ id: 'job', scopes: ['api.read'], jwks: [{ ...(await exportJWK(publicKey)), kid: 'job-1', alg: 'ES256' }] })

    const issue = async (ts: TestServer) => (await postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('svc', secret) })).body.access_token as string
    const kept = await issue(first)
    const revoked = await issue(first)
    expect((await postForm(first.revocationEndpoint, { token: revoked }, { authorization: basic('svc', secret) })).status).toBe(200)
    const assertion = await signAssertion(privateKey, first.issuer, clock)
    expect((await postForm(first.tokenEndpoint, { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion })).status).toBe(200)
    const jwksBefore = await (await fetch(first.jwksUri)).json()
    await first.stop()

    // Same port, so the same issuer, as a real restart has.
    const second = await startTestServer({
      dataDir: first.dataDir,
      databaseUrl: first.server.context.config.databaseUrl,
      keyEncryptionKey: first.keyEncryptionKey,
      clock,
      config: { port: Number(new URL(first.issuer).port) },
    })
    expect(second.issuer).toBe(first.issuer)
    try {
      const introspect = async (token: string) =>
        (await postForm(second.introspectionEndpoint, { token }, { authorization: basic('svc', secret) })).body
      expect(await (await fetch(second.jwksUri)).json()).toEqual(jwksBefore)
      expect(await introspect(kept)).toMatchObject({ active: true, sub: 'svc' })
      expect(await issue(second)).toEqual(expect.any(String))
      const replay = await postForm(second.tokenEndpoint, { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion })
      expect(replay.body).toMatchObject({ error: 'invalid_client', error_description: 'client_assertion jti has already been used' })
      expect(await second.server.context.store.isRevoked(jtiOf(revoked))).toBe(true)
      expect(await second.server.context.store.isRevoked(jtiOf(kept))).toBe(false)
      expect(await introspect(revoked)).toEqual({ active: false })
    } finally {
      await second.stop()
      second.cleanup()
    }
  })
})

function jtiOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti
}

async function signAssertion(key: CryptoKey, issuer: string, clock: TestClock): Promise<string> {
  const now = Math.floor(clock.now() / 1000)
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: 'job-1' })
    .setIssuer('job')
    .setSubject('job')
    .setAudience(issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .sign(key)
}
