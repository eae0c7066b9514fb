import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { GatewayError, parseConfig, type Gateway, type GatewayConfigInput } from '../src/index.js'
import { TestIssuer } from '../../service-kit/test/helpers/test-issuer.js'
import { deadUrl, EchoUpstream } from './helpers/echo-upstream.js'
import { echoed, send } from './helpers/send.js'
import { startGateway } from './helpers/test-gateway.js'

describe('the gateway’s lifecycle', () => {
  const auth = new TestIssuer()
  const a = new EchoUpstream('a')
  const b = new EchoUpstream('b')
  let token = ''
  const gateways: Gateway[] = []

  const config = (routes: GatewayConfigInput['routes'], extra: Partial<GatewayConfigInput> = {}): GatewayConfigInput => ({
    issuer: auth.issuer,
    upstreams: { a: { instances: [a.url] }, b: { instances: [b.url] } },
    routes,
    ...extra,
  })
  const start = async (input: GatewayConfigInput) => {
    const started = await startGateway(input)
    gateways.push(started.gateway)
    return started
  }
  const slowly = (ms: number) => (_req: unknown, res: { setHeader(name: string, value: string): { end(text: string): void } }, seen: unknown) => {
    setTimeout(() => {
      res.setHeader('content-type', 'application/json').end(JSON.stringify(seen))
    }, ms)
  }
  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const bearer = () => ['authorization', `Bearer ${token}`]

  beforeAll(async () => {
    await auth.start()
    await auth.resource('orders', ['orders.read'])
    await auth.client({ id: 'web', scopes: ['orders.read'] })
    token = await auth.token('web', { grant_type: 'client_credentials', scope: 'orders.read' })
    await a.start()
    await b.start()
  })
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()))
    a.reset()
    b.reset()
  })
  afterAll(async () => {
    await a.stop()
    await b.stop()
    await auth.stop()
    auth.cleanup()
  })

  describe('the reserved paths /-/', () => {
    it('answers healthz and readyz, and metrics only when exposed', async () => {
      const { url } = await start(config([{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', audience: 'orders' }]))
      expect(await send(url, '/-/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } })
      expect(await send(url, '/-/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } })
      expect(await send(url, '/-/metrics')).toMatchObject({ status: 404, body: { error: 'not_found' } })
      expect(await send(url, '/-/other')).toMatchObject({ status: 404 })
      expect(a.hits).toBe(0)
    })

    it('serves Prometheus metrics by route and status, auth decisions by reason', async () => {
      const { url } = await start(config([{ name: 'orders', match: { pathPrefix: '/' }, upstream: 'a', audience: 'orders' }], { exposeMetrics: true }))
      await send(url, '/x', { headers: bearer() })
      await send(url, '/x')
      await send(url, '/x', { headers: ['authorization', 'Bearer abc.def.ghi'] })
      const reply = await send(url, '/-/metrics')
      expect(reply.status).toBe(200)
      expect(reply.headers['content-type']).toMatch(/^text\/plain/)
      expect(reply.text).toContain('meshguard_gateway_request_duration_seconds_count{route="orders",status="200"} 1')
      expect(reply.text).toContain('meshguard_gateway_request_duration_seconds_count{route="orders",status="401"} 2')
      expect(reply.text).toContain('meshguard_gateway_auth_decisions_total{route="orders",decision="allowed"} 1')
      expect(reply.text).toContain('meshguard_gateway_auth_decisions_total{route="orders",decision="ERR_TOKEN_MISSING"} 1')
      expect(reply.text).toContain('meshguard_gateway_auth_decisions_total{route="orders",decision="ERR_TOKEN_MALFORMED"} 1')
      expect(reply.text).toContain('meshguard_gateway_requests_in_flight 1')
    })
  })

  describe('the issuer’s keys', () => {
    it('fails closed with 503 when the JWKS is unreachable and nothing is cached, never forwarding', async () => {
      const { url, gateway } = await start(
        config(
          [
            { name: 'orders', match: { pathPrefix: '/orders' }, upstream: 'a', audience: 'orders' },
            { name: 'open', match: { pathPrefix: '/open' }, upstream: 'a', policy: 'public' },
          ],
          { jwksUri: `${await deadUrl()}/jwks.json` },
        ),
      )
      expect(gateway.ready).toBe(false)
      const reply = await send(url, '/orders/1', { headers: bearer() })
      expect(reply.status).toBe(503)
      expect(reply.body.error).toBe('temporarily_unavailable')
      expect(reply.headers['www-authenticate']).toBe('Bearer realm="meshguard"')
      expect(a.hits).toBe(0)
      expect(await send(url, '/-/readyz')).toMatchObject({ status: 503, body: { status: 'keys not loaded' } })
      expect((await send(url, '/open')).status).toBe(200)
    })

    it('keeps trying in the background and becomes ready once the JWKS answers', async () => {
      let up = false
      const jwks: Server = createServer((_req, res) => {
        if (!up) {
          res.writeHead(503).end()
          return
        }
        void fetch(`${auth.issuer}/.well-known/jwks.json`).then(async (real) => res.setHeader('content-type', 'application/json').end(await real.text()))
      })
      await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
      try {
        const { url, gateway } = await start(
          config([{ name: 'orders', match: { pathPrefix: '/' }, upstream: 'a', audience: 'orders' }], { jwksUri: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` }),
        )
        expect((await send(url, '/x', { headers: bearer() })).status).toBe(503)
        up = true
        await until(() => gateway.ready)
        expect((await send(url, '/x', { headers: bearer() })).status).toBe(200)
      } finally {
        jwks.closeAllConnections()
        await new Promise((resolve) => jwks.close(resolve))
      }
    })
  })

  describe('reload', () => {
    it('swaps routes and upstreams without failing requests in flight', async () => {
      a.reset(slowly(300))
      const { url, gateway } = await start(config([{ name: 'r', match: { pathPrefix: '/r' }, upstream: 'a', policy: 'public' }]))
      const inFlight = send(url, '/r/slow')
      await until(() => a.hits === 1)
      await gateway.reload(
        parseConfig({
          ...config([
            { name: 'r', match: { pathPrefix: '/r' }, upstream: 'b', policy: 'public' },
            { name: 'new', match: { pathPrefix: '/new' }, upstream: 'b', audience: 'orders' },
          ]),
          listen: gateway.config.listen,
          log: gateway.config.log,
        }),
      )
      expect(echoed(await send(url, '/r/fast')).url).toBe('/r/fast')
      expect(b.hits).toBe(1)
      expect((await send(url, '/new', { headers: bearer() })).status).toBe(200)
      const slow = await inFlight
      expect(slow.status).toBe(200)
      expect(echoed(slow).url).toBe('/r/slow')
    })

    it('fails no request while reloading under load', async () => {
      const { url, gateway } = await start(config([{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', audience: 'orders' }]))
      const next = (upstream: 'a' | 'b') =>
        parseConfig({ ...config([{ name: 'r', match: { pathPrefix: '/' }, upstream, audience: 'orders' }]), listen: gateway.config.listen, log: gateway.config.log })
      const statuses: number[] = []
      const running = { reloading: true }
      const load = (async () => {
        while (running.reloading) statuses.push(...(await Promise.all(Array.from({ length: 10 }, () => send(url, '/x', { headers: bearer() })))).map((r) => r.status))
      })()
      for (let i = 0; i < 6; i += 1) {
        await gateway.reload(next(i % 2 === 0 ? 'b' : 'a'))
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      running.reloading = false
      await load
      expect(statuses.length).toBeGreaterThan(20)
      expect(new Set(statuses)).toEqual(new Set([200]))
      expect(a.hits).toBeGreaterThan(0)
      expect(b.hits).toBeGreaterThan(0)
    })

    it('refuses a change of listen settings and keeps the configuration in force', async () => {
      const { url, gateway } = await start(config([{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public' }]))
      const changed = parseConfig({ ...config([{ name: 'r', match: { pathPrefix: '/' }, upstream: 'b', policy: 'public' }]), listen: { port: 9 } })
      await expect(gateway.reload(changed)).rejects.toMatchObject({ code: 'ERR_RELOAD_REFUSED' })
      await send(url, '/x')
      expect(a.hits).toBe(1)
    })

    it('refuses a configuration whose issuer keys cannot be fetched', async () => {
      const { url, gateway } = await start(config([{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public' }]))
      const unreachable = parseConfig({
        ...config([{ name: 'r', match: { pathPrefix: '/' }, upstream: 'b', audience: 'orders' }], { jwksUri: `${await deadUrl()}/jwks.json` }),
        listen: gateway.config.listen,
        log: gateway.config.log,
      })
      const error = await gateway.reload(unreachable).catch((err: unknown) => err)
      expect(error).toBeInstanceOf(GatewayError)
      expect((error as GatewayError).code).toBe('ERR_RELOAD_REFUSED')
      expect((await send(url, '/x')).status).toBe(200)
      expect(a.hits).toBe(1)
    })
  })

  describe('close', () => {
    it('drains: a request in flight completes, new connections are refused', async () => {
      a.reset(slowly(300))
      const { url, gateway } = await start(config([{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public' }]))
      const inFlight = send(url, '/slow')
      await until(() => a.hits === 1)
      const closed = gateway.close()
      expect(gateway.ready).toBe(false)
      await expect(send(url, '/after')).rejects.toMatchObject({ code: 'ECONNREFUSED' })
      const reply = await inFlight
      expect(reply.status).toBe(200)
      expect(reply.headers.connection).toBe('close')
      await closed
    })

    it('cuts requests still running after drainTimeoutMs', async () => {
      a.reset(slowly(5000))
      const { url, gateway } = await start(config([{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public' }], { drainTimeoutMs: 100 }))
      const inFlight = send(url, '/stuck').catch((err: unknown) => err)
      await until(() => a.hits === 1)
      const started = Date.now()
      await gateway.close()
      expect(Date.now() - started).toBeLessThan(2000)
      expect(await inFlight).toBeInstanceOf(Error)
    })
  })
})
