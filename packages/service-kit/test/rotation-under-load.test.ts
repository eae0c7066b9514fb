import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeProtectedHeader } from 'jose'
import { createVerifier, type Verifier } from '../src/index.js'
import { TestIssuer } from './helpers/test-issuer.js'

/**
 * Scheduled rotation while tokens are issued and verified without pause: because the next key is
 * published before it signs, and verifiers refresh within that time, no verification fails.
 */
describe('key rotation under continuous load', () => {
  const auth = new TestIssuer()
  let verifier: Verifier

  beforeAll(async () => {
    await auth.start(0, { signing: { publishAheadSec: 1, reloadIntervalSec: 1 } })
    await auth.resource('api', ['api.read'])
    await auth.client({ id: 'svc', scopes: ['api.read'] })
    verifier = createVerifier({
      issuer: auth.issuer,
      audience: 'api',
      jwksUri: `${auth.issuer}/.well-known/jwks.json`,
      // Shorter than publishAheadSec, as the default 5 min is shorter than the default 15 min.
      jwks: { refreshIntervalMs: 500, unknownKidCooldownMs: 60_000 },
    })
    await verifier.start()
  })
  afterAll(async () => {
    verifier.close()
    await auth.stop()
    auth.cleanup()
  })

  it('verifies every token through three rotations', async () => {
    const kids = new Set<string>()
    const failures: string[] = []
    let verified = 0
    const stopAt = Date.now() + 4_500
    const rotations = (async () => {
      for (let i = 0; i < 3; i += 1) {
        await new Promise((done) => setTimeout(done, 1_300))
        await auth.server.context.keys.rotate('manual')
      }
    })()
    const workers = Array.from({ length: 4 }, async () => {
      while (Date.now() < stopAt) {
        const token = await auth.token('svc', { grant_type: 'client_credentials' })
        kids.add(decodeProtectedHeader(token).kid!)
        await verifier.verify(token).then(
          () => (verified += 1),
          (err: unknown) => failures.push(String(err)),
        )
      }
    })
    await Promise.all([rotations, ...workers])
    expect(failures).toEqual([])
    expect(kids.size).toBe(4)
    expect(verified).toBeGreaterThan(100)
  })
})
