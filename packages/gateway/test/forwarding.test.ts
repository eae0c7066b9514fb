import { request } from 'node:http'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Gateway, GatewayConfigInput, GatewayDeps } from '../src/index.js'
import { TestIssuer } from '../../service-kit/test/helpers/test-issuer.js'
import { EchoUpstream } from './helpers/echo-upstream.js'
import { echoed, send } from './helpers/send.js'
import { startGateway } from './helpers/test-gateway.js'

/** What the gateway adds on the way and how it behaves around the edges of an exchange. */
describe('forwarding details', () => {
  const auth = new TestIssuer()
  const a = new EchoUpstream()
  let token = ''
  const gateways: Gateway[] = []

  const start = async (input: Partial<GatewayConfigInput>, deps: GatewayDeps = {}) => {
    const started = await startGateway(
      { issuer: auth.issuer, upstreams: { a: { instances: [a.url] } }, routes: [{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', audience: 'orders' }], ...input },
      deps,
    )
    gateways.push(started.gateway)
    return started.url
  }
  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  beforeAll(async () => {
    await auth.start()
    await auth.resource('orders', ['orders.read'])
    await auth.client({ id: 'web', scopes: ['orders.read'] })
    token = await auth.token('web', { grant_type: 'client_credentials', scope: 'orders.read' })
    await a.start()
  })
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.close()))
    a.reset()
  })
  afterAll(async () => {
    await a.stop()
    await auth.stop()
    auth.cleanup()
  })

  it('tells the upstream the prefix it stripped', async () => {
    const url = await start({ routes: [{ name: 'api', match: { pathPrefix: '/api' }, upstream: 'a', policy: 'public', stripPrefix: true }] })
    const seen = echoed(await send(url, '/api/items', { headers: ['X-Forwarded-Prefix', '/spoofed'] }))
    expect(seen.url).toBe('/items')
    expect(seen.headers['x-forwarded-prefix']).toBe('/api')
  })

  it('behind trusted proxies, keeps their X-Forwarded-For and takes the client address that many hops from the right', async () => {
    const url = await start({
      listen: { trustProxyHops: 1 },
      routes: [{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public', rateLimit: { perIp: { ratePerSec: 0.001, burst: 1 } } }],
    })
    const reply = await send(url, '/x', { headers: ['X-Forwarded-For', '6.6.6.6, 1.2.3.4', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'shop.example'] })
    expect(echoed(reply).headers).toMatchObject({ 'x-forwarded-for': '6.6.6.6, 1.2.3.4, 127.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' })
    // 1.2.3.4's bucket is empty now; another client behind the same proxy has its own.
    expect((await send(url, '/x', { headers: ['X-Forwarded-For', '7.7.7.7, 1.2.3.4'] })).status).toBe(429)
    expect((await send(url, '/x', { headers: ['X-Forwarded-For', '1.2.3.4, 5.6.7.8'] })).status).toBe(200)
  })

  it('at the edge, ignores a client’s X-Forwarded-For for the rate limit', async () => {
    const url = await start({ routes: [{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public', rateLimit: { perIp: { ratePerSec: 0.001, burst: 1 } } }] })
    expect((await send(url, '/x', { headers: ['X-Forwarded-For', '1.1.1.1'] })).status).toBe(200)
    expect((await send(url, '/x', { headers: ['X-Forwarded-For', '2.2.2.2'] })).status).toBe(429)
  })

  it('cancels the upstream request when the client goes away', async () => {
    let upstreamClosed = false
    a.reset((req) => {
      req.socket.once('close', () => (upstreamClosed = true))
    })
    const url = await start({ routes: [{ name: 'r', match: { pathPrefix: '/' }, upstream: 'a', policy: 'public' }] })
    const { port } = new URL(url)
    const client = request({ host: '127.0.0.1', port, path: '/hang', agent: false })
    client.on('error', () => undefined)
    client.end()
    await until(() => a.hits === 1)
    client.destroy()
    await until(() => upstreamClosed)
    expect(upstreamClosed).toBe(true)
  })

  it('sends 100 Continue only once the request passed its checks', async () => {
    const url = await start({})
    const { port } = new URL(url)
    const exchange = (authorization: string | undefined) =>
      new Promise<{ status: number | undefined; continued: boolean; body: string }>((resolve, reject) => {
        let continued = false
        const headers: Record<string, string> = { expect: '100-continue', 'content-length': '5', 'content-type': 'text/plain' }
        if (authorization !== undefined) headers.authorization = authorization
        const req = request({ host: '127.0.0.1', port, path: '/upload', method: 'POST', headers, agent: false }, (res) => {
          let body = ''
          res.on('data', (chunk: Buffer) => (body += chunk.toString()))
          res.on('end', () => {
            resolve({ status: res.statusCode, continued, body })
          })
        })
        req.on('continue', () => {
          continued = true
          req.end('hello')
        })
        req.on('error', reject)
        req.flushHeaders()
      })
    const accepted = await exchange(`Bearer ${token}`)
    expect(accepted).toMatchObject({ status: 200, continued: true })
    expect((JSON.parse(accepted.body) as { body: string }).body).toBe('hello')
    expect(await exchange(undefined)).toMatchObject({ status: 401, continued: false })
    expect(a.hits).toBe(1)
  })

  it('writes one access log line per request, with what an operator needs', async () => {
    const lines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
        callback()
      },
    })
    const url = await start({ log: { level: 'info' } }, { logger: pino({ level: 'info' }, sink) })
    const reply = await send(url, '/orders/1?secret=not-logged', { headers: ['authorization', `Bearer ${token}`] })
    await send(url, '/orders/2')
    await send(url, '/-/healthz')
    const requests = lines.filter((line) => line.msg === 'request')
    expect(requests).toHaveLength(2)
    expect(requests[0]).toMatchObject({
      level: 30,
      requestId: reply.headers['x-request-id'],
      method: 'GET',
      path: '/orders/1',
      route: 'r',
      status: 200,
      clientId: 'web',
      upstream: a.url,
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/) as string,
    })
    expect(typeof requests[0]!.ms).toBe('number')
    expect(requests[1]).toMatchObject({ status: 401, error: 'ERR_TOKEN_MISSING', route: 'r' })
    expect(JSON.stringify(lines)).not.toContain('not-logged')
    expect(JSON.stringify(lines)).not.toContain(token)
  })
})
