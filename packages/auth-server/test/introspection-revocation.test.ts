import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TokenRevokedEvent } from '../src/events/revocation-bus.js'
import { basic, postForm, startTestServer, type TestServer } from './helpers/test-server.js'

describe('introspection (RFC 7662) and revocation (RFC 7009)', () => {
  let ts: TestServer
  const secret: Record<string, string> = {}
  const issue = async (id: string) =>
    (await postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic(id, secret[id]!) })).body.access_token as string
  const introspectRaw = async (token: string, as = 'alpha') => {
    const response = await fetch(ts.introspectionEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(as, secret[as]!) },
      body: new URLSearchParams({ token }),
    })
    return { status: response.status, text: await response.text(), headers: response.headers }
  }

  beforeAll(async () => {
    ts = await startTestServer()
    await ts.resource('api', ['api.read'])
    secret.alpha = (await ts.client({ id: 'alpha', scopes: ['api.read'] }))!
    secret.beta = (await ts.client({ id: 'beta', scopes: ['api.read'] }))!
  })
  afterAll(async () => {
    await ts.stop()
    ts.cleanup()
  })

  it('requires client authentication for both endpoints', async () => {
    const token = await issue('alpha')
    for (const endpoint of [ts.introspectionEndpoint, ts.revocationEndpoint]) {
      const response = await postForm(endpoint, { token })
      expect(response.status).toBe(401)
      expect(response.body.error).toBe('invalid_client')
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /)
    }
  })

  it('requires the token parameter', async () => {
    const response = await postForm(ts.introspectionEndpoint, {}, { authorization: basic('alpha', secret.alpha!) })
    expect(response.body).toMatchObject({ error: 'invalid_request', error_description: 'missing required parameter "token"' })
  })

  it.each([
    ['garbage', () => Promise.resolve('garbage')],
    ['a token with a flipped signature bit', async () => {
      const token = await issue('alpha')
      const last = token.at(-2) === 'A' ? 'B' : 'A'
      return `${token.slice(0, -2)}${last}${token.at(-1)!}`
    }],
    ['an expired token', async () => {
      const token = await issue('alpha')
      ts.clock.advance(600 + 31)
      return token
    }],
  ] as const)('answers exactly {"active":false} for %s', async (_name, make) => {
    const token = await make()
    try {
      const response = await introspectRaw(token)
      expect(response.status).toBe(200)
      expect(response.text).toBe('{"active":false}')
      expect(response.headers.get('cache-control')).toBe('no-store')
    } finally {
      ts.clock.set(Date.now())
    }
  })

  it('expires a token that was introspected (and so cached) while it was valid', async () => {
    const token = await issue('alpha')
    expect((await introspectRaw(token)).text).toContain('"active":true')
    ts.clock.advance(600 + 31)
    try {
      expect((await introspectRaw(token)).text).toBe('{"active":false}')
    } finally {
      ts.clock.set(Date.now())
    }
  })

  it('revokes durably, announces it once, and then introspects as exactly {"active":false}', async () => {
    const token = await issue('alpha')
    const events: TokenRevokedEvent[] = []
    const unsubscribe = ts.server.context.revocations.subscribe((event) => events.push(event))
    expect((await introspectRaw(token)).text).toContain('"active":true')

    for (let i = 0; i < 2; i += 1) {
      const response = await postForm(ts.revocationEndpoint, { token, token_type_hint: 'access_token' }, { authorization: basic('alpha', secret.alpha!) })
      expect(response.status).toBe(200)
    }
    unsubscribe()
    const jti = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti
    expect(events).toEqual([expect.objectContaining({ jti, clientId: 'alpha' })])
    expect(await ts.server.context.store.isRevoked(jti)).toBe(true)
    expect((await introspectRaw(token)).text).toBe('{"active":false}')
  })

  it('ignores revocation of another client\'s token: 200, and the token stays active', async () => {
    const token = await issue('alpha')
    const response = await postForm(ts.revocationEndpoint, { token }, { authorization: basic('beta', secret.beta!) })
    expect(response.status).toBe(200)
    expect((await introspectRaw(token)).text).toContain('"active":true')
  })

  it('answers 200 to revocation of an unknown token (RFC 7009 §2.2)', async () => {
    const response = await postForm(ts.revocationEndpoint, { token: 'not-a-token' }, { authorization: basic('alpha', secret.alpha!) })
    expect(response.status).toBe(200)
  })

  it('audits introspections and revocations', async () => {
    await ts.server.context.audit.flush()
    const events = await ts.server.context.store.listAudit(200)
    expect(events.find((e) => e.type === 'token.revoked')).toMatchObject({ decision: 'allow', clientId: 'alpha', jti: expect.any(String) })
    expect(events.find((e) => e.type === 'token.revocation_ignored' && e.clientId === 'beta')).toMatchObject({ decision: 'deny', reason: 'token was issued to another client' })
    expect(events.find((e) => e.type === 'token.introspected' && e.reason === 'revoked')).toMatchObject({ clientId: 'alpha', details: { active: false } })
  })

  it('serves health, readiness and Prometheus metrics', async () => {
    expect(await (await fetch(`${ts.issuer}/healthz`)).json()).toEqual({ status: 'ok' })
    expect(await (await fetch(`${ts.issuer}/readyz`)).json()).toEqual({ status: 'ready', problems: [] })
    const metrics = await (await fetch(`${ts.issuer}/metrics`)).text()
    expect(metrics).toMatch(/^meshguard_tokens_issued_total\{grant_type="client_credentials"\} \d+$/m)
    expect(metrics).toMatch(/^meshguard_revocations_total 1$/m)
    expect(metrics).toMatch(/^meshguard_oauth_errors_total\{endpoint="introspection",error="invalid_client"\} 1$/m)
  })
})

describe('discovery with an issuer that has a path', () => {
  it('serves RFC 8414 metadata with the path after the well-known segment, and OIDC discovery under the issuer', async () => {
    const ts = await startTestServer({ config: { issuer: 'http://127.0.0.1:4999/tenant-a' } })
    try {
      const rfc8414 = await ts.server.app.inject('/.well-known/oauth-authorization-server/tenant-a')
      const oidc = await ts.server.app.inject('/tenant-a/.well-known/openid-configuration')
      expect(rfc8414.json()).toMatchObject({ issuer: 'http://127.0.0.1:4999/tenant-a', token_endpoint: 'http://127.0.0.1:4999/tenant-a/oauth2/token' })
      expect(oidc.json()).toEqual(rfc8414.json())
      expect((await ts.server.app.inject('/tenant-a/.well-known/jwks.json')).json()).toHaveProperty('keys')
    } finally {
      await ts.stop()
      ts.cleanup()
    }
  })
})
