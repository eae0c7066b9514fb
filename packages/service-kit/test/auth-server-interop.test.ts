import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN_EXCHANGE_GRANT, tokenTypes } from '@meshguard/auth-server'
import { createVerifier, VerificationError, type Verifier } from '../src/index.js'
import { TestIssuer } from './helpers/test-issuer.js'

/** Tokens from a running Meshguard authorization server, verified locally by the service kit. */
describe('service kit against the authorization server', () => {
  const auth = new TestIssuer()
  let verifier: Verifier
  const ccToken = (scope: string) => auth.token('web', { grant_type: 'client_credentials', scope })

  beforeAll(async () => {
    await auth.start()
    await auth.resource('orders', ['orders.read'])
    await auth.resource('payments', ['payments.write'])
    await auth.client({ id: 'web', scopes: ['orders.read', 'payments.write'] })
    await auth.client({ id: 'orders', scopes: ['payments.write'], grantTypes: [TOKEN_EXCHANGE_GRANT] })
    verifier = createVerifier({ issuer: auth.issuer, audience: 'orders', jwksUri: `${auth.issuer}/.well-known/jwks.json`, jwks: { unknownKidCooldownMs: 1 } })
    await verifier.start()
  })
  afterAll(async () => {
    verifier.close()
    await auth.stop()
    auth.cleanup()
  })

  it('verifies a client-credentials token and exposes who and what', async () => {
    const verified = await verifier.verify(await ccToken('orders.read'))
    expect(verified).toMatchObject({ subject: 'web', clientId: 'web', chain: [] })
    expect([...verified.scopes]).toEqual(['orders.read'])
  })

  it('exposes the act chain of an exchanged token, and refuses it where it is not addressed', async () => {
    const subject = await ccToken('orders.read payments.write')
    const exchanged = await auth.token('orders', { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subject, subject_token_type: tokenTypes.accessToken, audience: 'payments' })
    const payments = createVerifier({ issuer: auth.issuer, audience: 'payments', jwksUri: `${auth.issuer}/.well-known/jwks.json` })
    await payments.start()
    try {
      expect(await payments.verify(exchanged)).toMatchObject({ subject: 'web', clientId: 'orders', chain: ['orders'] })
      await expect(verifier.verify(exchanged)).rejects.toMatchObject({ code: 'ERR_TOKEN_AUDIENCE' })
    } finally {
      payments.close()
    }
  })

  it('refuses a cached token once an emergency rotation has dropped its key and the key set is refetched', async () => {
    const before = await ccToken('orders.read')
    await verifier.verify(before)
    await auth.server.context.keys.rotate('emergency')
    // The new signing key was published ahead, so nothing forces a refetch: until the next one, the old key is trusted.
    await verifier.verify(await ccToken('orders.read'))
    await expect(verifier.verify(before)).resolves.toBeDefined()
    await verifier.refreshKeys()
    const error = await verifier.verify(before).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(VerificationError)
    expect((error as VerificationError).code).toBe('ERR_TOKEN_KID_UNKNOWN')
  })

  it('refuses a revoked token at once when told, even from its cache', async () => {
    const issued = await ccToken('orders.read')
    const { claims } = await verifier.verify(issued)
    verifier.revoke(claims.jti, claims.exp)
    await expect(verifier.verify(issued)).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' })
  })
})
