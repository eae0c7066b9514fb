import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents } from './helpers/sse.js'
import { basic, postForm, startTestServer, type TestServer } from './helpers/test-server.js'

describe('revocation events (Server-Sent Events)', () => {
  let ts: TestServer
  let secret: string
  const issue = async () => (await postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('svc', secret) })).body.access_token as string
  const revoke = (token: string) => postForm(ts.revocationEndpoint, { token }, { authorization: basic('svc', secret) })
  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string; exp: number }

  beforeAll(async () => {
    ts = await startTestServer()
    await ts.resource('api', ['api.read'])
    secret = (await ts.client({ id: 'svc', scopes: ['api.read'] }))!
  })
  afterAll(async () => {
    await ts.stop()
    ts.cleanup()
  })

  it('is advertised in the metadata', async () => {
    const metadata = (await (await fetch(`${ts.baseUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
    expect(metadata.revocation_events_endpoint).toBe(`${ts.issuer}/oauth2/revocations/events`)
  })

  it('sends the revocations so far, then ready, then each new one as it happens', async () => {
    const earlier = await issue()
    await revoke(earlier)
    const stream = readEvents(`${ts.baseUrl}/oauth2/revocations/events`)
    try {
      await stream.waitFor((e) => e.event === 'ready')
      const snapshot = stream.events.filter((e) => e.event === 'revoked').map((e) => JSON.parse(e.data) as unknown)
      expect(snapshot).toEqual([{ jti: claimsOf(earlier).jti, exp: claimsOf(earlier).exp }])

      const later = await issue()
      await revoke(later)
      const live = await stream.waitFor((e) => e.event === 'revoked' && e.data.includes(claimsOf(later).jti), 1000)
      expect(JSON.parse(live.data)).toEqual({ jti: claimsOf(later).jti, exp: claimsOf(later).exp })
    } finally {
      stream.stop()
    }
  })

  it('announces a revocation stored by someone else once it learns of it from the store', async () => {
    const stream = readEvents(`${ts.baseUrl}/oauth2/revocations/events`)
    try {
      await stream.waitFor((e) => e.event === 'ready')
      const now = Math.floor(ts.clock.now() / 1000)
      await ts.server.context.store.revokeToken({ jti: 'from-elsewhere', clientId: 'svc', expiresAt: now + 600, revokedAt: now })
      await ts.server.context.directory.refresh()
      await stream.waitFor((e) => e.event === 'revoked' && e.data.includes('from-elsewhere'), 1000)
    } finally {
      stream.stop()
    }
  })

  it('does not keep the server from closing', async () => {
    const other = await startTestServer()
    const stream = readEvents(`${other.baseUrl}/oauth2/revocations/events`)
    await stream.waitFor((e) => e.event === 'ready')
    await other.stop()
    other.cleanup()
    stream.stop()
  })
})
