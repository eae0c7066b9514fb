import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Gateway, GatewayConfigInput } from '../src/index.js'
import { TestIssuer } from '../../service-kit/test/helpers/test-issuer.js'
import { deadUrl, EchoUpstream } from './helpers/echo-upstream.js'
import { echoed, send } from './helpers/send.js'
import { startGateway } from './helpers/test-gateway.js'

/** A clock tests move by hand, starting now (tokens are checked against it too). */
class ManualClock {
  ms = Date.now()
  readonly now = () => this.ms
  advance(ms: number): void {
    this.ms += ms
  }
}

describe('the proxy path', () => {
  const auth = new TestIssuer()
  const upstreams = [new EchoUpstream('a'), new EchoUpstream('b'), new EchoUpstream('c')]
  const [a, b, c] = upstreams as [EchoUpstream, EchoUpstream, EchoUpstream]
  let token = ''
  let dead = ''
  const gateways: Gateway[] = []

  const start = async (input: Pick<GatewayConfigInput, 'upstreams' | 'routes'>, clock = new ManualClock()) => {
    const { gateway, url } = await startGateway({ issuer: auth.issuer, ...input }, { now: clock.now })
    gateways.push(gateway)
    return url
  }
  const bearer = () => ['authorization', `Bearer ${token}`]

  beforeAll(async () => {
    await auth.start()
    await auth.resource('orders', ['orders.read'])
    await auth.client({ id: 'web', scopes: ['orders.read'] })
    await auth.client({ id: 'mobile', scopes: ['orders.read'] })
    token = await auth.token('web', { grant_type: 'client_credentials', scope: 'orders.read' })
    await Promise.all(upstreams.map((upstream) => upstream.start()))
    dead = await deadUrl()
  })
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()))
    for (const upstream of upstreams) upstream.reset()
  })
  afterAll(async () => {
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
    await auth.stop()
    auth.cleanup()
  })

  describe('routing', () => {
    it('takes the longest matching prefix, host-specific routes first, and strips the prefix when asked', async () => {
      const base = await start({
        upstreams: { a: { instances: [a.url] }, b: { instances: [`${b.url}/v2/`] }, c: { instances: [c.url] } },
        routes: [
          { name: 'root', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public' },
          { name: 'api', match: { pathPrefix: '/api' }, upstream: 'b', policy: 'public', stripPrefix: true },
          { name: 'api-orders', match: { pathPrefix: '/api/orders' }, upstream: 'c', policy: 'public' },
          { name: 'host', match: { pathPrefix: '/api', host: 'shop.example' }, upstream: 'a', policy: 'public' },
        ],
      })
      expect(echoed(await send(base, '/api/orders/7?x=1')).url).toBe('/api/orders/7?x=1')
      expect(c.hits).toBe(1)
      expect(echoed(await send(base, '/api/items?q=a%20b')).url).toBe('/v2/items?q=a%20b')
      expect(echoed(await send(base, '/api')).url).toBe('/v2/')
      expect(echoed(await send(base, '/api?x')).url).toBe('/v2/?x')
      expect(b.hits).toBe(3)
      expect(echoed(await send(base, '/apix')).url).toBe('/apix')
      expect(a.hits).toBe(1)
      // The host route, for any port and case; not for another host.
      expect(echoed(await send(base, '/api/orders', { headers: ['host', 'Shop.Example:8443'] })).url).toBe('/api/orders')
      expect(a.hits).toBe(2)
    })

    it('spreads requests round robin over the instances', async () => {
      const base = await start({ upstreams: { all: { instances: [a.url, b.url, c.url] } }, routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'all', policy: 'public' }] })
      for (let i = 0; i < 9; i += 1) expect((await send(base, '/x')).status).toBe(200)
      expect([a.hits, b.hits, c.hits]).toEqual([3, 3, 3])
    })

    it('skips a dead instance for its cooldown, then tries it again', async () => {
      const clock = new ManualClock()
      const base = await start(
        {
          upstreams: { all: { instances: [dead, a.url, b.url], passiveHealth: { failures: 1, cooldownMs: 10_000 } } },
          routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'all', policy: 'public', retries: 1 }],
        },
        clock,
      )
      const metrics = gateways[0]!.registry
      for (let i = 0; i < 10; i += 1) expect((await send(base, '/x')).status).toBe(200)
      const failures = async () => (await metrics.getSingleMetric('meshguard_gateway_upstream_errors_total')!.get()).values.reduce((sum, v) => sum + v.value, 0)
      expect(await failures()).toBe(1)
      expect(a.hits + b.hits).toBe(10)
      clock.advance(10_001)
      for (let i = 0; i < 3; i += 1) expect((await send(base, '/x')).status).toBe(200)
      expect(await failures()).toBe(2)
    })
  })

  describe('failures', () => {
    it('answers 502 with an OAuth-style body when the upstream is down', async () => {
      const base = await start({ upstreams: { down: { instances: [dead] } }, routes: [{ name: 'down', match: { pathPrefix: '/' }, upstream: 'down', policy: 'public' }] })
      const reply = await send(base, '/x')
      expect(reply.status).toBe(502)
      expect(reply.headers['content-type']).toBe('application/json')
      expect(reply.body).toEqual({ error: 'temporarily_unavailable', error_description: 'down is unavailable' })
    })

    it('answers 504 when the upstream does not answer in time, without retrying', async () => {
      const late = (_req: unknown, res: { end(text: string): void }) => {
        setTimeout(() => {
          res.end('late')
        }, 5000).unref()
      }
      a.reset(late)
      b.reset(late)
      const base = await start({ upstreams: { slow: { instances: [a.url, b.url] } }, routes: [{ name: 'slow', match: { pathPrefix: '/' }, upstream: 'slow', policy: 'public', timeoutMs: 1000, retries: 2 }] })
      const started = Date.now()
      const reply = await send(base, '/x')
      expect(reply.status).toBe(504)
      expect(reply.body).toEqual({ error: 'temporarily_unavailable', error_description: 'slow did not answer within 1000 ms' })
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
      expect(Date.now() - started).toBeLessThan(3000)
      expect(a.hits + b.hits).toBe(1)
    })

    const flaky = (upstream: EchoUpstream) => {
      upstream.reset((req, res, seen, hit) => {
        if (hit === 1) req.socket.destroy()
        else res.setHeader('content-type', 'application/json').end(JSON.stringify(seen))
      })
    }
    const flakyRoute = () => ({ upstreams: { flaky: { instances: [a.url] } }, routes: [{ name: 'flaky', match: { pathPrefix: '/' }, upstream: 'flaky', policy: 'public' as const, retries: 1 }] })

    it.each(['GET', 'HEAD', 'OPTIONS', 'DELETE'])('retries an idempotent %s without a body once the connection failed', async (method) => {
      flaky(a)
      const base = await start(flakyRoute())
      expect((await send(base, '/x', { method })).status).toBe(200)
      expect(a.hits).toBe(2)
    })

    it.each([
      ['POST', 'POST', undefined],
      ['PATCH', 'PATCH', undefined],
      ['PUT with a body', 'PUT', 'payload'],
    ])('does not retry %s', async (_name, method, body) => {
      flaky(a)
      const base = await start(flakyRoute())
      const reply = await send(base, '/x', { method, body: body ?? '' })
      expect(reply.status).toBe(502)
      expect(reply.body.error).toBe('temporarily_unavailable')
      expect(a.hits).toBe(1)
    })

    it('does not retry with retries: 0', async () => {
      flaky(a)
      const base = await start({ ...flakyRoute(), routes: [{ ...flakyRoute().routes[0]!, retries: 0 }] })
      expect((await send(base, '/x')).status).toBe(502)
      expect(a.hits).toBe(1)
    })
  })

  describe('bodies', () => {
    const route = () => ({ upstreams: { a: { instances: [a.url] } }, routes: [{ name: 'up', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public' as const, bodyLimitBytes: 64 * 1024 }] })

    it('streams a body within the limit both ways, and a large response intact', async () => {
      const base = await start(route())
      const payload = 'x'.repeat(60 * 1024)
      expect(echoed(await send(base, '/x', { method: 'POST', body: payload })).body).toBe(payload)
      expect(echoed(await send(base, '/x', { method: 'POST', body: payload, chunked: true })).body).toBe(payload)
      const big = Buffer.alloc(5 * 1024 * 1024, 'abcdefgh')
      b.reset((_req, res) => {
        res.end(big)
      })
      const bigBase = await start({ upstreams: { b: { instances: [b.url] } }, routes: [{ name: 'big', match: { pathPrefix: '/' }, upstream: 'b', policy: 'public' }] })
      const reply = await send(bigBase, '/big')
      expect(reply.text.length).toBe(big.length)
      expect(reply.text === big.toString()).toBe(true)
    })

    it('refuses a body declared over the limit with 413, before forwarding anything', async () => {
      const base = await start(route())
      const reply = await send(base, '/x', { method: 'POST', body: 'x'.repeat(64 * 1024 + 1) })
      expect(reply.status).toBe(413)
      expect(reply.body).toEqual({ error: 'invalid_request', error_description: 'the request body is larger than the 65536 bytes this route accepts' })
      expect(reply.headers.connection).toBe('close')
      expect(a.hits).toBe(0)
    })

    it('refuses a chunked body that grows over the limit with 413', async () => {
      const base = await start(route())
      const reply = await send(base, '/x', { method: 'POST', body: 'x'.repeat(200 * 1024), chunked: true })
      expect(reply.status).toBe(413)
      expect(reply.body.error).toBe('invalid_request')
      expect(a.hits).toBe(0)
    })
  })

  describe('rate limits', () => {
    it('refuses past the per-address burst with 429 and Retry-After, and lets requests through as the bucket refills', async () => {
      const clock = new ManualClock()
      const base = await start(
        { upstreams: { a: { instances: [a.url] } }, routes: [{ name: 'limited', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public', rateLimit: { perIp: { ratePerSec: 0.5, burst: 2 } } }] },
        clock,
      )
      expect((await send(base, '/x')).status).toBe(200)
      expect((await send(base, '/x')).status).toBe(200)
      const refused = await send(base, '/x')
      expect(refused.status).toBe(429)
      expect(refused.headers['retry-after']).toBe('2')
      expect(refused.body).toEqual({ error: 'too_many_requests', error_description: 'too many requests from this address; try again later' })
      expect(a.hits).toBe(2)
      clock.advance(2000)
      expect((await send(base, '/x')).status).toBe(200)
      expect((await send(base, '/x')).status).toBe(429)
    })

    it('keeps one bucket per client_id', async () => {
      const other = await auth.token('mobile', { grant_type: 'client_credentials', scope: 'orders.read' })
      const base = await start({
        upstreams: { a: { instances: [a.url] } },
        routes: [{ name: 'limited', match: { pathPrefix: '/' }, upstream: 'a', audience: 'orders', rateLimit: { perClient: { ratePerSec: 1 } } }],
      })
      expect((await send(base, '/x', { headers: bearer() })).status).toBe(200)
      const refused = await send(base, '/x', { headers: bearer() })
      expect(refused.status).toBe(429)
      expect(refused.headers['retry-after']).toBe('1')
      expect(refused.body.error_description).toBe('too many requests from this client; try again later')
      expect((await send(base, '/x', { headers: ['authorization', `Bearer ${other}`] })).status).toBe(200)
    })
  })

  describe('CORS', () => {
    const cors = () => ({
      upstreams: { a: { instances: [a.url] } },
      routes: [
        { name: 'app', match: { pathPrefix: '/app' }, upstream: 'a', audience: 'orders', cors: { origins: ['https://app.example'], credentials: true, exposeHeaders: ['x-request-id'] } },
        { name: 'plain', match: { pathPrefix: '/plain' }, upstream: 'a', policy: 'public' as const },
      ],
    })
    const preflight = (origin: string, method = 'POST', headers = 'Authorization, Content-Type') => ['origin', origin, 'access-control-request-method', method, 'access-control-request-headers', headers]

    it('answers an allowed preflight at the gateway, without a token and without forwarding it', async () => {
      const base = await start(cors())
      const reply = await send(base, '/app/orders', { method: 'OPTIONS', headers: preflight('https://app.example') })
      expect(reply.status).toBe(204)
      expect(reply.headers).toMatchObject({
        'access-control-allow-origin': 'https://app.example',
        'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-allow-credentials': 'true',
        'access-control-max-age': '600',
      })
      expect(a.hits).toBe(0)
    })

    it.each([
      ['another origin', preflight('https://evil.example'), 'origin https://evil.example is not allowed'],
      ['a method not allowed', preflight('https://app.example', 'PROPFIND'), 'method PROPFIND is not allowed'],
      ['a header not allowed', preflight('https://app.example', 'GET', 'x-admin'), 'request header x-admin is not allowed'],
    ])('refuses a preflight from %s with 403', async (_name, headers, description) => {
      const base = await start(cors())
      const reply = await send(base, '/app/orders', { method: 'OPTIONS', headers })
      expect(reply.status).toBe(403)
      expect(reply.body).toEqual({ error: 'access_denied', error_description: description })
      expect(reply.headers['access-control-allow-origin']).toBeUndefined()
    })

    it('adds CORS headers to responses for an allowed origin, replacing the upstream’s, and to refusals', async () => {
      a.reset((_req, res) => {
        res.setHeader('access-control-allow-origin', '*').end('ok')
      })
      const base = await start(cors())
      const reply = await send(base, '/app/orders', { headers: ['origin', 'https://app.example', ...bearer()] })
      expect(reply.status).toBe(200)
      expect(reply.headers['access-control-allow-origin']).toBe('https://app.example')
      expect(reply.headers['access-control-expose-headers']).toBe('x-request-id')
      expect(reply.headers.vary).toBe('Origin')
      const refused = await send(base, '/app/orders', { headers: ['origin', 'https://app.example'] })
      expect(refused.status).toBe(401)
      expect(refused.headers['access-control-allow-origin']).toBe('https://app.example')
      const other = await send(base, '/app/orders', { headers: ['origin', 'https://evil.example', ...bearer()] })
      expect(other.headers['access-control-allow-origin']).toBeUndefined()
    })

    it('forwards OPTIONS on a route without CORS settings', async () => {
      const base = await start(cors())
      expect((await send(base, '/plain', { method: 'OPTIONS', headers: preflight('https://app.example') })).status).toBe(200)
      expect(a.last.method).toBe('OPTIONS')
    })
  })

  it('relays the upstream response: status, repeated Set-Cookie, hop-by-hop headers removed', async () => {
    a.reset((_req, res) => {
      res.writeHead(201, ['set-cookie', 'a=1', 'set-cookie', 'b=2', 'connection', 'x-secret', 'x-secret', 'hidden', 'keep-alive', 'timeout=1', 'x-request-id', 'upstream-id', 'x-visible', 'yes'])
      res.end('made')
    })
    const base = await start({ upstreams: { a: { instances: [a.url] } }, routes: [{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public' }] })
    const reply = await send(base, '/x', { method: 'POST', body: '{}' })
    expect(reply.status).toBe(201)
    expect(reply.text).toBe('made')
    expect(reply.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(reply.headers['x-secret']).toBeUndefined()
    expect(reply.headers['keep-alive']).toBeUndefined()
    expect(reply.headers['x-visible']).toBe('yes')
    expect(reply.headers['x-request-id']).not.toBe('upstream-id')
  })
})
