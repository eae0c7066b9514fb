import { afterAll, beforeAll, describe, it } from 'vitest'
import { openStore } from '@meshguard/auth-server'
import { createVerifier, type Verifier } from '../src/index.js'
import { TestIssuer } from './helpers/test-issuer.js'

/** Polls until `check` resolves true, failing after `withinMs`. */
async function within(withinMs: number, check: () => Promise<boolean>): Promise<void> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`)
    await new Promise((done) => setTimeout(done, 20))
  }
}

/** A verifier following a real authorization server's revocation events. */
describe('revocation events reach the verifier', () => {
  const auth = new TestIssuer()
  let verifier: Verifier
  const errors: Error[] = []
  const issue = () => auth.token('svc', { grant_type: 'client_credentials' })
  const refused = (token: string, code: string) => () => verifier.verify(token).then(() => false, (err: unknown) => (err as { code?: string }).code === code)

  beforeAll(async () => {
    await auth.start()
    await auth.resource('api', ['api.read'])
    await auth.client({ id: 'svc', scopes: ['api.read'] })
    verifier = createVerifier({
      issuer: auth.issuer,
      audience: 'api',
      jwksUri: `${auth.issuer}/.well-known/jwks.json`,
      revocationEventsUri: `${auth.issuer}/oauth2/revocations/events`,
      onError: (err) => errors.push(err),
    })
    await verifier.start()
  })
  afterAll(async () => {
    verifier.close()
    await auth.stop()
    auth.cleanup()
  })

  it('refuses a revoked token within a second, cached or not', async () => {
    const token = await issue()
    await verifier.verify(token)
    await auth.revoke('svc', token)
    await within(1_000, refused(token, 'ERR_TOKEN_REVOKED'))
  })

  it('stops trusting a key within a second of an emergency rotation', async () => {
    const token = await issue()
    await verifier.verify(token)
    await auth.server.context.keys.rotate('emergency')
    await within(1_000, refused(token, 'ERR_TOKEN_KID_UNKNOWN'))
  })

  it('reconnects by itself and catches up on revocations made while it was away', async () => {
    const token = await issue()
    const { jti, exp } = (await verifier.verify(token)).claims
    await auth.stop()
    await within(2_000, () => Promise.resolve(errors.length > 0))
    // Revoked while no server is up (as another instance would): only the snapshot can carry it.
    const store = await openStore({ dataDir: auth.dataDir })
    await store.revokeToken({ jti, clientId: 'svc', expiresAt: exp, revokedAt: Math.floor(Date.now() / 1000) })
    await store.close()
    await auth.start(auth.port)
    await within(5_000, refused(token, 'ERR_TOKEN_REVOKED'))
  })
})
