import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, RedisRevocations, type Verifier } from '../src/index.js'
import { TestIssuer } from './helpers/test-issuer.js'

/** The machine's Redis (scripts/ensure-services.sh); this file keeps to its own key prefix. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * Issue 5: revocations travel over Redis pub/sub to verifiers too. A service's verifier follows
 * the channel the authorization server publishes to, without the SSE stream, and also learns of
 * revocations made before it subscribed from the set the server keeps.
 */
describe('a verifier following revocations over Redis', () => {
  const keyPrefix = `meshguard-test-${randomBytes(6).toString('hex')}:`
  const auth = new TestIssuer()
  const redis = new Redis(REDIS_URL)
  const subscriber = new Redis(REDIS_URL)
  let verifier: Verifier
  let revocations: RedisRevocations
  const issue = () => auth.token('svc', { grant_type: 'client_credentials' })

  beforeAll(async () => {
    await auth.start(0, { redis: { url: REDIS_URL, keyPrefix } })
    await auth.resource('api', ['api.read'])
    await auth.client({ id: 'svc', scopes: ['api.read'] })
    verifier = createVerifier({ issuer: auth.issuer, audience: 'api', jwksUri: `${auth.issuer}/.well-known/jwks.json` })
    await verifier.start()
  })
  afterAll(async () => {
    revocations.close()
    verifier.close()
    await auth.stop()
    auth.cleanup()
    const keys = await redis.keys(`${keyPrefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    subscriber.disconnect()
    redis.disconnect()
  })

  it('learns of a revocation made before it subscribed, from the set', async () => {
    const early = await issue()
    await verifier.verify(early)
    await auth.revoke('svc', early)
    revocations = new RedisRevocations({
      subscriber,
      redis,
      keyPrefix,
      onRevoked: (jti, exp) => {
        verifier.revoke(jti, exp)
      },
      now: Date.now,
    })
    await expect.poll(() => verifier.verify(early).then(() => 'accepted', (err: unknown) => (err as { code: string }).code), { timeout: 2_000 }).toBe('ERR_TOKEN_REVOKED')
  })

  it('refuses a token within a second of its revocation, cached or not', async () => {
    const token = await issue()
    await verifier.verify(token)
    const revokedAt = Date.now()
    await auth.revoke('svc', token)
    await expect.poll(() => verifier.verify(token).then(() => 'accepted', (err: unknown) => (err as { code: string }).code), { timeout: 1_000, interval: 20 }).toBe('ERR_TOKEN_REVOKED')
    expect(Date.now() - revokedAt).toBeLessThan(1_000)
  })
})
