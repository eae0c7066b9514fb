import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { createAuthServer, parseConfig, registerClient, registerResourceServer, TOKEN_EXCHANGE_GRANT, tokenTypes, type AuthServer } from '@meshguard/auth-server'
import { createVerifier, VerificationError, type Verifier } from '../src/index.js'

/** Tokens from a running Meshguard authorization server, verified locally by the service kit. */
describe('service kit against the authorization server', () => {
  let server: AuthServer
  let issuer: string
  let dataDir: string
  let verifier: Verifier
  const secrets: Record<string, string> = {}

  const token = async (client: string, body: Record<string, string>) => {
    const response = await fetch(`${issuer}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client}:${secrets[client]!}`).toString('base64')}` },
      body: new URLSearchParams(body),
    })
    return ((await response.json()) as { access_token: string }).access_token
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'meshguard-kit-'))
    server = await createAuthServer(
      parseConfig({ port: 0, dataDir, keyEncryptionKey: randomBytes(32).toString('base64url'), log: { level: 'silent' } }),
      { logger: pino({ level: 'silent' }) },
    )
    issuer = await server.listen()
    const store = server.context.store
    await registerResourceServer(store, { id: 'orders', scopes: ['orders.read'] }, 1)
    await registerResourceServer(store, { id: 'payments', scopes: ['payments.write'] }, 1)
    secrets.web = (await registerClient(store, { id: 'web', scopes: ['orders.read', 'payments.write'] }, 1)).secret!
    secrets.orders = (await registerClient(store, { id: 'orders', scopes: ['payments.write'], grantTypes: [TOKEN_EXCHANGE_GRANT] }, 1)).secret!
    verifier = createVerifier({ issuer, audience: 'orders', jwksUri: `${issuer}/.well-known/jwks.json`, jwks: { unknownKidCooldownMs: 1 } })
    await verifier.start()
  })
  afterAll(async () => {
    verifier.close()
    await server.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('verifies a client-credentials token and exposes who and what', async () => {
    const verified = await verifier.verify(await token('web', { grant_type: 'client_credentials', scope: 'orders.read' }))
    expect(verified).toMatchObject({ subject: 'web', clientId: 'web', chain: [] })
    expect([...verified.scopes]).toEqual(['orders.read'])
  })

  it('exposes the act chain of an exchanged token, and refuses it where it is not addressed', async () => {
    const subject = await token('web', { grant_type: 'client_credentials', scope: 'orders.read payments.write' })
    const exchanged = await token('orders', { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subject, subject_token_type: tokenTypes.accessToken, audience: 'payments' })
    const payments = createVerifier({ issuer, audience: 'payments', jwksUri: `${issuer}/.well-known/jwks.json` })
    await payments.start()
    try {
      expect(await payments.verify(exchanged)).toMatchObject({ subject: 'web', clientId: 'orders', chain: ['orders'] })
      await expect(verifier.verify(exchanged)).rejects.toMatchObject({ code: 'ERR_TOKEN_AUDIENCE' })
    } finally {
      payments.close()
    }
  })

  it('refuses a cached token once an emergency rotation has dropped its key and the key set is refetched', async () => {
    const before = await token('web', { grant_type: 'client_credentials', scope: 'orders.read' })
    await verifier.verify(before)
    await server.context.keys.rotate('emergency')
    // The new signing key was published ahead, so nothing forces a refetch: until the next one, the old key is trusted.
    await verifier.verify(await token('web', { grant_type: 'client_credentials', scope: 'orders.read' }))
    await expect(verifier.verify(before)).resolves.toBeDefined()
    await verifier.refreshKeys()
    const error = await verifier.verify(before).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(VerificationError)
    expect((error as VerificationError).code).toBe('ERR_TOKEN_KID_UNKNOWN')
  })

  it('refuses a revoked token at once when told, even from its cache', async () => {
    const issued = await token('web', { grant_type: 'client_credentials', scope: 'orders.read' })
    const { claims } = await verifier.verify(issued)
    verifier.revoke(claims.jti, claims.exp)
    await expect(verifier.verify(issued)).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' })
  })
})
