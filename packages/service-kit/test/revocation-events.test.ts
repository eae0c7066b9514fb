import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { pino } from 'pino'
import { createAuthServer, openStore, parseConfig, registerClient, registerResourceServer, type AuthServer } from '@meshguard/auth-server'
import { createVerifier, type Verifier } from '../src/index.js'

/** Polls until `check` resolves true or `withinMs` passes; returns how long it took. */
async function within(withinMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`)
    await new Promise((done) => setTimeout(done, 20))
  }
  return Date.now() - started
}

/** A verifier following a real authorization server's revocation events. */
describe('revocation events reach the verifier', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshguard-events-'))
  const keyEncryptionKey = randomBytes(32).toString('base64url')
  let server: AuthServer
  let issuer: string
  let secret: string
  let verifier: Verifier
  const errors: Error[] = []

  const start = async (port: number) => {
    server = await createAuthServer(parseConfig({ port, dataDir, keyEncryptionKey, log: { level: 'silent' } }), { logger: pino({ level: 'silent' }) })
    issuer = await server.listen()
  }
  const issue = async () => {
    const response = await fetch(`${issuer}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`svc:${secret}`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    })
    return ((await response.json()) as { access_token: string }).access_token
  }
  const revoke = (token: string): Promise<Response> =>
    fetch(`${issuer}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`svc:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ token }),
    })
  const refused = (token: string, code: string) => () => verifier.verify(token).then(() => false, (err: unknown) => (err as { code?: string }).code === code)

  beforeAll(async () => {
    await start(0)
    await registerResourceServer(server.context.store, { id: 'api', scopes: ['api.read'] }, 1)
    secret = (await registerClient(server.context.store, { id: 'svc', scopes: ['api.read'] }, 1)).secret!
    verifier = createVerifier({
      issuer,
      audience: 'api',
      jwksUri: `${issuer}/.well-known/jwks.json`,
      revocationEventsUri: `${issuer}/oauth2/revocations/events`,
      onError: (err) => errors.push(err),
    })
    await verifier.start()
  })
  afterAll(async () => {
    verifier.close()
    await server.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('refuses a revoked token within a second, cached or not', async () => {
    const token = await issue()
    await verifier.verify(token)
    await revoke(token)
    await within(1_000, refused(token, 'ERR_TOKEN_REVOKED'))
  })

  it('stops trusting a key within a second of an emergency rotation', async () => {
    const token = await issue()
    await verifier.verify(token)
    await server.context.keys.rotate('emergency')
    await within(1_000, refused(token, 'ERR_TOKEN_KID_UNKNOWN'))
  })

  it('reconnects by itself and catches up on revocations made while it was away', async () => {
    const token = await issue()
    await verifier.verify(token)
    const port = Number(new URL(issuer).port)
    await server.close()
    await within(2_000, () => Promise.resolve(errors.length > 0))
    // Revoked while no server is up (as another instance would): only the snapshot can carry it.
    const { jti, exp } = (await verifier.verify(token)).claims
    const store = await openStore({ dataDir })
    await store.revokeToken({ jti, clientId: 'svc', expiresAt: exp, revokedAt: Math.floor(Date.now() / 1000) })
    await store.close()
    await start(port)
    await within(5_000, refused(token, 'ERR_TOKEN_REVOKED'))
  })
})
