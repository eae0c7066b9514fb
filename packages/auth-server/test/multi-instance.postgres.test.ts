import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js'
import { basic, postForm, startTestServer, type TestServer } from './helpers/test-server.js'

/**
 * Two instances on one PostgreSQL database, as behind a load balancer: one public issuer, one key
 * set, one set of clients and revocations. Each is called on its own port here.
 */
describe('two authorization server instances on one PostgreSQL', () => {
  let database: TestDatabase
  let a: TestServer
  let b: TestServer
  let secret: string

  beforeAll(async () => {
    database = await createTestDatabase()
    const shared = { databaseUrl: database.url, keyEncryptionKey: randomBytes(32).toString('base64url'), config: { issuer: 'https://auth.mesh.test', signing: { reloadIntervalSec: 1 } } }
    // Started at the same moment on an empty database: migrations and first keys race.
    ;[a, b] = await Promise.all([startTestServer(shared), startTestServer(shared)])
    await a.resource('api', ['api.read'])
    secret = (await a.client({ id: 'svc', scopes: ['api.read'] }))!
  })
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()])
    a.cleanup()
    b.cleanup()
    await database.drop()
  })

  const jwks = async (ts: TestServer) => (await (await fetch(ts.jwksUri)).json()) as { keys: Array<{ kid: string }> }

  it('ends up with exactly one active key, published by both', async () => {
    const keys = await a.server.context.store.listSigningKeys()
    expect(keys.filter((key) => key.state === 'active')).toHaveLength(1)
    await b.server.context.keys.reload()
    await a.server.context.keys.reload()
    expect(await jwks(b)).toEqual(await jwks(a))
  })

  it('serves a client registered through the other instance, and honours its revocations', async () => {
    const token = (await postForm(b.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('svc', secret) })).body.access_token as string
    expect(token).toEqual(expect.any(String))
    const introspectAt = async (ts: TestServer) => (await postForm(ts.introspectionEndpoint, { token }, { authorization: basic('svc', secret) })).body
    expect(await introspectAt(a)).toMatchObject({ active: true, iss: 'https://auth.mesh.test' })
    expect(await introspectAt(b)).toMatchObject({ active: true })
    expect((await postForm(a.revocationEndpoint, { token }, { authorization: basic('svc', secret) })).status).toBe(200)
    expect(await introspectAt(a)).toEqual({ active: false })
    // B learns of A's revocation at its next refresh from the store (state.refreshIntervalSec, 1 s).
    let atB = await introspectAt(b)
    for (let attempt = 0; attempt < 30 && atB.active !== false; attempt += 1) {
      await new Promise((done) => setTimeout(done, 100))
      atB = await introspectAt(b)
    }
    expect(atB).toEqual({ active: false })
    expect(await b.server.context.store.isRevoked(jtiOf(token))).toBe(true)
  })

  it('sees an emergency rotation made by the other instance within its reload interval', async () => {
    const before = a.server.context.keys.records().find((key) => key.state === 'active')!.kid
    await a.server.context.keys.rotate('emergency')
    let kids = (await jwks(b)).keys.map((key) => key.kid)
    for (let attempt = 0; attempt < 40 && kids.includes(before); attempt += 1) {
      await new Promise((done) => setTimeout(done, 100))
      kids = (await jwks(b)).keys.map((key) => key.kid)
    }
    expect(kids).not.toContain(before)
    expect(b.server.context.keys.signer().kid).toBe(a.server.context.keys.signer().kid)
  })
})

function jtiOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti
}
