import { randomBytes } from 'node:crypto'
import { registerClient } from '@meshguard/auth-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Gateway, GatewayConfigInput } from '../src/index.js'
import { TestIssuer } from '../../service-kit/test/helpers/test-issuer.js'
import { deadUrl, EchoUpstream } from './helpers/echo-upstream.js'
import { ForwardingProxy } from './helpers/forwarding-proxy.js'
import { send, type Reply } from './helpers/send.js'
import { startGateway } from './helpers/test-gateway.js'

const EDGE_SECRET = randomBytes(32).toString('base64url')
const JWT_ANYWHERE = /[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/

/**
 * Phantom tokens at the edge (issue 5, ADR 0010): callers hold opaque reference tokens, the
 * gateway swaps each for its JWT at a real authorization server's introspection endpoint and
 * forwards the JWT to a real upstream, which never answers with it.
 */
describe('phantom tokens at the gateway', () => {
  const auth = new TestIssuer()
  const upstream = new EchoUpstream()
  /** In front of the introspection endpoint, to count exchanges and to take introspection away. */
  let introspection: ForwardingProxy
  const gateways: Gateway[] = []
  let base: string

  const config = (overrides: Partial<GatewayConfigInput> = {}): GatewayConfigInput => ({
    issuer: auth.issuer,
    revocationEventsUri: `${auth.issuer}/oauth2/revocations/events`,
    introspection: { clientId: 'edge', clientSecret: EDGE_SECRET, endpoint: `${introspection.url}/oauth2/introspect` },
    upstreams: { orders: { instances: [upstream.url] } },
    routes: [{ name: 'orders', match: { pathPrefix: '/orders' }, upstream: 'orders', audience: 'orders', policy: { scopes: ['orders.read'] } }],
    ...overrides,
  })
  const start = async (input: GatewayConfigInput) => {
    const started = await startGateway(input)
    gateways.push(started.gateway)
    return started.url
  }
  const opaque = async (scope = 'orders.read') => {
    const token = await auth.token('web', { grant_type: 'client_credentials', scope })
    expect(token).toMatch(/^mgat_[\w-]{43}$/)
    return token
  }
  const get = (url: string, token: string) => send(url, '/orders/1', { headers: ['authorization', `Bearer ${token}`] })
  /** What introspection says of a token, as RFC 7662 JSON. */
  const introspect = async (token: string) => {
    const response = await fetch(`${auth.issuer}/oauth2/introspect`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`edge:${EDGE_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    })
    return (await response.json()) as { active: boolean; jti?: string }
  }
  const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { jti: string; client_id: string }
  const expectNoJwt = (reply: Reply) => {
    expect(reply.text).not.toMatch(JWT_ANYWHERE)
    expect(JSON.stringify(reply.headers)).not.toMatch(JWT_ANYWHERE)
  }

  beforeAll(async () => {
    await auth.start()
    await auth.resource('orders', ['orders.read'])
    await auth.resource('payments', ['payments.read'])
    await auth.client({ id: 'web', scopes: ['orders.read', 'payments.read'], tokenFormat: 'reference' })
    await auth.client({ id: 'svc', scopes: ['orders.read'] })
    await registerClient(auth.server.context.store, { id: 'edge', scopes: [], phantomTokens: true, secret: EDGE_SECRET }, 1)
    await registerClient(auth.server.context.store, { id: 'plain', scopes: [], secret: EDGE_SECRET }, 1)
    introspection = await new ForwardingProxy(auth.issuer).start()
    await upstream.start()
    // The upstream answers without echoing what it got: what the caller sees is the gateway's doing.
    upstream.reset((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end('{"ok":true}')
    })
    base = await start(config())
  })
  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()))
    await introspection.stop()
    await upstream.stop()
    await auth.stop()
    auth.cleanup()
  })

  it('swaps an opaque token for its JWT: the upstream gets the JWT introspection names, the caller never sees it', async () => {
    const token = await opaque()
    const reply = await get(base, token)
    expect(reply.status).toBe(200)
    expectNoJwt(reply)
    const authorization = upstream.last.headers.authorization!
    expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/)
    const jwt = authorization.slice('Bearer '.length)
    const { active, jti } = await introspect(token)
    expect(active).toBe(true)
    expect(claimsOf(jwt)).toMatchObject({ jti, client_id: 'web' })
    expect(upstream.last.rawHeaders.join('\n')).not.toContain(token)
  })

  it('exchanges a token once, however many requests carry it at once, then answers from memory', async () => {
    const token = await opaque()
    const before = introspection.hits
    const replies = await Promise.all(Array.from({ length: 20 }, () => get(base, token)))
    expect(replies.map((reply) => reply.status)).toEqual(Array(20).fill(200))
    expect(introspection.hits - before).toBe(1)
    for (let i = 0; i < 5; i += 1) expect((await get(base, token)).status).toBe(200)
    expect(introspection.hits - before).toBe(1)
  })

  it('verifies a JWT in place, without introspection', async () => {
    const before = introspection.hits
    const jwt = await auth.token('svc', { grant_type: 'client_credentials', scope: 'orders.read' })
    expect((await get(base, jwt)).status).toBe(200)
    expect(introspection.hits).toBe(before)
  })

  it('refuses a revoked opaque token within one second, though its exchange was in memory', async () => {
    const token = await opaque()
    expect((await get(base, token)).status).toBe(200)
    const revokedAt = performance.now()
    await auth.revoke('web', token)
    let reply = await get(base, token)
    while (reply.status === 200 && performance.now() - revokedAt < 2000) reply = await get(base, token)
    expect(performance.now() - revokedAt).toBeLessThan(1000)
    expect(reply.status).toBe(401)
    expect(reply.body.error).toBe('invalid_token')
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer realm="meshguard", error="invalid_token"/)
    expectNoJwt(reply)
  })

  type Refusal = [name: string, status: number, error: string, token: () => Promise<string> | string]
  const refusals: Refusal[] = [
    ['an unknown reference token', 401, 'invalid_token', () => `mgat_${randomBytes(32).toString('base64url')}`],
    ['an opaque token of another shape', 401, 'invalid_token', () => 'opaque-token-the-issuer-never-made'],
    ['a token with one dot', 401, 'invalid_token', () => 'abc.def'],
    ['a token with three dots', 401, 'invalid_token', () => 'a.b.c.d'],
    ['an opaque token longer than any token', 401, 'invalid_token', () => `mgat_${'A'.repeat(9000)}`],
    ['an opaque token for another audience', 401, 'invalid_token', () => opaque('payments.read')],
  ]

  it.each(refusals)('refuses %s with %i %s, never forwarding it', async (_name, status, error, make) => {
    const before = upstream.hits
    const reply = await get(base, await make())
    expect(reply.status).toBe(status)
    expect(reply.body.error).toBe(error)
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer realm="meshguard", error="invalid_token"/)
    expectNoJwt(reply)
    expect(upstream.hits).toBe(before)
  })

  it('fails closed when introspection is down: 503 with an OAuth body, never forwarded; a token exchanged before still works', async () => {
    const proxy = await new ForwardingProxy(auth.issuer).start()
    const url = await start(config({ introspection: { clientId: 'edge', clientSecret: EDGE_SECRET, endpoint: `${proxy.url}/oauth2/introspect` } }))
    const exchanged = await opaque()
    expect((await get(url, exchanged)).status).toBe(200)
    await proxy.stop()
    const before = upstream.hits
    const reply = await get(url, await opaque())
    expect(reply.status).toBe(503)
    expect(reply.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the authorization server cannot be reached to check the token' })
    expect(reply.headers['content-type']).toBe('application/json')
    expect(upstream.hits).toBe(before)
    expect((await get(url, exchanged)).status).toBe(200)
    await proxy.start()
    expect((await get(url, await opaque())).status).toBe(200)
  })

  it('fails closed when introspection is nowhere to be found', async () => {
    const url = await start(config({ introspection: { clientId: 'edge', clientSecret: EDGE_SECRET, endpoint: `${await deadUrl()}/oauth2/introspect` } }))
    const before = upstream.hits
    expect(await get(url, await opaque())).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } })
    expect(upstream.hits).toBe(before)
  })

  it.each([
    ['the gateway’s secret is refused', { clientId: 'edge', clientSecret: 'not-the-secret' }, /refused the gateway's client credentials/],
    ['the gateway’s client may not have JWTs', { clientId: 'plain', clientSecret: EDGE_SECRET }, /not registered for phantom tokens/],
  ])('answers 502 when %s, never forwarding', async (_name, client, description) => {
    const url = await start(config({ introspection: { ...client, endpoint: `${auth.issuer}/oauth2/introspect` } }))
    const before = upstream.hits
    const reply = await get(url, await opaque())
    expect(reply.status).toBe(502)
    expect(reply.body.error).toBe('temporarily_unavailable')
    expect(reply.body.error_description).toMatch(description)
    expectNoJwt(reply)
    expect(upstream.hits).toBe(before)
  })

  it('takes opaque tokens only when introspection is configured', async () => {
    const url = await start(config({ introspection: undefined }))
    expect(await get(url, await opaque())).toMatchObject({ status: 401, body: { error: 'invalid_token' } })
  })

  it('counts exchanges by outcome', async () => {
    const url = await start(config({ exposeMetrics: true }))
    await get(url, await opaque())
    await get(url, `mgat_${randomBytes(32).toString('base64url')}`)
    const metrics = (await send(url, '/-/metrics')).text
    expect(metrics).toContain('meshguard_gateway_phantom_exchanges_total{outcome="introspected"} 1')
    expect(metrics).toContain('meshguard_gateway_phantom_exchanges_total{outcome="inactive"} 1')
  })
})
