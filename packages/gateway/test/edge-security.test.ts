import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Gateway } from '../src/index.js'
import { TestIssuer } from '../../service-kit/test/helpers/test-issuer.js'
import { EchoUpstream } from './helpers/echo-upstream.js'
import { echoed, send, type Reply } from './helpers/send.js'
import { startGateway } from './helpers/test-gateway.js'

/** Tokens at the edge and header hygiene, against a real authorization server and a real upstream. */
describe('the gateway at the edge', () => {
  const auth = new TestIssuer()
  const upstream = new EchoUpstream()
  let gateway: Gateway
  let base: string
  const tokens: Record<'read' | 'write' | 'payments', string> = { read: '', write: '', payments: '' }

  beforeAll(async () => {
    await auth.start()
    await auth.resource('orders', ['orders.read', 'orders.write'])
    await auth.resource('payments', ['payments.read'])
    await auth.client({ id: 'web', scopes: ['orders.read', 'orders.write', 'payments.read'] })
    tokens.read = await auth.token('web', { grant_type: 'client_credentials', scope: 'orders.read' })
    tokens.write = await auth.token('web', { grant_type: 'client_credentials', scope: 'orders.write' })
    tokens.payments = await auth.token('web', { grant_type: 'client_credentials', scope: 'payments.read' })
    await upstream.start()
    ;({ gateway, url: base } = await startGateway({
      issuer: auth.issuer,
      upstreams: { orders: { instances: [upstream.url] } },
      routes: [
        { name: 'orders', match: { pathPrefix: '/orders' }, upstream: 'orders', audience: 'orders', policy: { scopes: ['orders.read'] } },
        { name: 'any', match: { pathPrefix: '/any' }, upstream: 'orders', audience: 'orders', policy: 'authenticated' },
        { name: 'open', match: { pathPrefix: '/public' }, upstream: 'orders', policy: 'public' },
      ],
    }))
  })
  afterAll(async () => {
    await gateway.close()
    await upstream.stop()
    await auth.stop()
    auth.cleanup()
  })

  const bearer = (token: string, scheme = 'Bearer') => ['authorization', `${scheme} ${token}`]

  type Row = [name: string, path: string, headers: () => string[], status: number, error: string | undefined, challenge: RegExp | undefined]
  const refusals: Row[] = [
    ['no token', '/orders/1', () => [], 401, 'invalid_request', /^Bearer realm="meshguard"$/],
    ['the Basic scheme', '/orders/1', () => ['authorization', 'Basic d2ViOnNlY3JldA=='], 401, 'invalid_token', /error="invalid_token"/],
    ['trailing junk after the token', '/orders/1', () => bearer(`${tokens.read} junk`), 401, 'invalid_token', /error="invalid_token"/],
    ['a token with characters a bearer token cannot have', '/orders/1', () => bearer(`${tokens.read}!`), 401, 'invalid_token', /error="invalid_token"/],
    ['"Bearer" with nothing after it', '/orders/1', () => ['authorization', 'Bearer'], 401, 'invalid_token', /error="invalid_token"/],
    ['a garbage token', '/orders/1', () => bearer('abc.def.ghi'), 401, 'invalid_token', /error="invalid_token"/],
    ['two Authorization headers', '/orders/1', () => [...bearer(tokens.read), ...bearer(tokens.read)], 400, 'invalid_request', /^Bearer realm="meshguard"$/],
    ['two Authorization headers on a public route', '/public/x', () => [...bearer(tokens.read), 'authorization', 'Basic eDp5'], 400, 'invalid_request', undefined],
    ['access_token in the query', `/orders/1?x=1&access_token=abc`, () => bearer(tokens.read), 400, 'invalid_request', undefined],
    ['access_token in the query, percent-encoded', `/orders/1?access%5Ftoken=abc`, () => [], 400, 'invalid_request', undefined],
    ['access_token in the query of a public route', `/public/x?access_token=abc`, () => [], 400, 'invalid_request', undefined],
    ['a token for another audience', '/orders/1', () => bearer(tokens.payments), 401, 'invalid_token', /error="invalid_token"/],
    ['a token without the route scope', '/orders/1', () => bearer(tokens.write), 403, 'insufficient_scope', /error="insufficient_scope".*scope="orders.read"/],
    ['a dot-dot path', '/public/../orders/1', () => [], 400, 'invalid_request', undefined],
    ['an encoded dot-dot path', '/public/%2E%2e/orders/1', () => [], 400, 'invalid_request', undefined],
    ['a dot-dot behind an encoded slash', '/public/x%2F..%2F..%2Forders', () => [], 400, 'invalid_request', undefined],
    ['a path no route matches', '/admin', () => bearer(tokens.read), 404, 'not_found', undefined],
    ['a prefix that only shares characters with a route', '/ordersx', () => bearer(tokens.read), 404, 'not_found', undefined],
    ['an absolute-form target', 'http://127.0.0.1/orders/1', () => bearer(tokens.read), 400, 'invalid_request', undefined],
  ]

  it.each(refusals)('refuses %s, never forwarding it', async (_name, path, headers, status, error, challenge) => {
    const before = upstream.hits
    const reply = await send(base, path, { headers: headers() })
    expect(reply.status).toBe(status)
    expect(reply.body.error).toBe(error)
    expect(typeof reply.body.error_description).toBe('string')
    expect(reply.headers['content-type']).toBe('application/json')
    expect(reply.headers['cache-control']).toBe('no-store')
    expect(reply.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    if (challenge !== undefined) expect(reply.headers['www-authenticate']).toMatch(challenge)
    expect(upstream.hits).toBe(before)
  })

  const accepted: Array<[string, string, () => string[]]> = [
    ['Bearer', '/orders/1', () => bearer(tokens.read)],
    ['lower-case bearer', '/orders/1', () => bearer(tokens.read, 'bearer')],
    ['upper-case BEARER with two spaces', '/orders/1', () => bearer(tokens.read, 'BEARER ')],
    ['any token for the audience on an authenticated route', '/any/thing', () => bearer(tokens.write)],
  ]

  it.each(accepted)('accepts %s and forwards Authorization: Bearer <JWT>', async (_name, path, headers) => {
    const reply = await send(base, path, { headers: headers() })
    expect(reply.status).toBe(200)
    const seen = echoed(reply)
    expect(seen.url).toBe(path)
    expect(seen.headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/)
    expect(seen.rawHeaders.filter((_, i) => i % 2 === 0 && seen.rawHeaders[i]!.toLowerCase() === 'authorization')).toHaveLength(1)
  })

  it('forwards a public route without a token, and a client Authorization on it untouched', async () => {
    expect(await send(base, '/public/a')).toMatchObject({ status: 200, body: { url: '/public/a' } })
    const reply = await send(base, '/public/a', { headers: ['authorization', 'Basic d2ViOnNlY3JldA=='] })
    expect(echoed(reply).headers.authorization).toBe('Basic d2ViOnNlY3JldA==')
  })

  it('strips spoofed internal, identity and hop-by-hop headers: the upstream never sees them', async () => {
    const spoofed = [
      'X-Scope-Token', tokens.write,
      'X-Forwarded-Client-Cert', 'By=spiffe://example.org/ns/shop/sa/admin;Hash=abc',
      'X-Client-Cert', 'MIIB',
      'X-SSL-Client-Cert', 'MIIB',
      'X-Meshguard-Client-Id', 'admin',
      'x-meshguard-subject', 'admin',
      'X-Authenticated-User', 'admin',
      'X-Authenticated-Scopes', 'orders.write',
      'X-Forwarded-For', '6.6.6.6',
      'X-Forwarded-Proto', 'https',
      'X-Forwarded-Host', 'evil.example',
      'Forwarded', 'for=6.6.6.6',
      'X-Real-IP', '6.6.6.6',
      'X-Request-Id', 'evil-request-id',
      'X-Original-URL', '/admin',
      'X-Rewrite-URL', '/admin',
      'Proxy-Authorization', 'Basic eDp5',
      'Proxy-Connection', 'keep-alive',
      'Keep-Alive', 'timeout=5',
      'TE', 'trailers',
      'Upgrade', 'h2c',
    ]
    const reply = await send(base, '/orders/1', { headers: [...bearer(tokens.read), ...spoofed] })
    expect(reply.status).toBe(200)
    const { headers, rawHeaders } = echoed(reply)
    const names = rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase())
    for (const name of ['x-scope-token', 'x-forwarded-client-cert', 'x-client-cert', 'x-ssl-client-cert', 'x-meshguard-client-id', 'x-meshguard-subject', 'x-authenticated-user', 'x-authenticated-scopes', 'forwarded', 'x-real-ip', 'x-original-url', 'x-rewrite-url', 'proxy-authorization', 'proxy-connection', 'keep-alive', 'te', 'upgrade']) {
      expect(names, name).not.toContain(name)
    }
    expect(headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(headers['x-forwarded-proto']).toBe('http')
    expect(headers['x-forwarded-host']).toBe(new URL(base).host)
    expect(headers['x-request-id']).toBe(reply.headers['x-request-id'])
    expect(headers['x-request-id']).not.toBe('evil-request-id')
    expect(names.filter((name) => name === 'x-forwarded-for')).toHaveLength(1)
  })

  it('passes 40 ordinary headers through untouched: names, values and order', async () => {
    const ordinary: string[] = []
    for (let i = 1; i <= 40; i += 1) {
      const name = i % 3 === 0 ? `X-Custom-Header-${i}` : i % 3 === 1 ? `x-lower-${i}` : `Accept-Thing-${i}`
      ordinary.push(name, `value ${i}; with=parts, commas and "quotes" ${'x'.repeat(i)}`)
    }
    const reply = await send(base, '/orders/1', { headers: [...bearer(tokens.read), ...ordinary] })
    const { rawHeaders } = echoed(reply)
    const forwarded = rawHeaders.filter((_, i) => i % 2 === 0 && /^(x-custom-header|x-lower|accept-thing)-/i.test(rawHeaders[i]!))
    expect(forwarded).toEqual(ordinary.filter((_, i) => i % 2 === 0))
    for (let i = 0; i < ordinary.length; i += 2) {
      const at = rawHeaders.indexOf(ordinary[i]!)
      expect(rawHeaders[at + 1], ordinary[i]).toBe(ordinary[i + 1])
    }
  })

  it('lets no Connection header remove what the gateway sets: Authorization, X-Request-Id, X-Forwarded-For', async () => {
    const reply = await send(base, '/orders/1', {
      method: 'POST',
      headers: [...bearer(tokens.read), 'Connection', 'Authorization, X-Request-Id, X-Forwarded-For, traceparent, Content-Type, Content-Length, X-Drop-Me', 'content-type', 'text/plain', 'X-Drop-Me', '1', 'X-Keep-Me', '2'],
      body: 'hello',
    })
    expect(reply.status).toBe(200)
    const { headers, body } = echoed(reply)
    expect(headers.authorization).toMatch(/^Bearer ey/)
    expect(headers.authorization).toBe(`Bearer ${tokens.read}`)
    expect(headers['x-request-id']).toBe(reply.headers['x-request-id'])
    expect(headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(headers.traceparent).toBeDefined()
    expect(headers['content-type']).toBe('text/plain')
    expect(body).toBe('hello')
    // What Connection names among the client's ordinary headers is hop-by-hop, and dropped (RFC 9110 §7.6.1).
    expect(headers['x-drop-me']).toBeUndefined()
    expect(headers['x-keep-me']).toBe('2')
  })

  it('adds X-Request-Id (also on the response) and a traceparent continuing a valid incoming trace with a new span', async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const reply = await send(base, '/orders/1', { headers: [...bearer(tokens.read), 'traceparent', incoming, 'tracestate', 'vendor=opaque'] })
    const { headers } = echoed(reply)
    expect(headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(reply.headers['x-request-id']).toBe(headers['x-request-id'])
    expect(headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    expect(headers.traceparent).not.toBe(incoming)
    expect(headers.tracestate).toBe('vendor=opaque')
  })

  const badTraces: Array<[string, string[]]> = [
    ['none', []],
    ['a malformed one', ['traceparent', 'not-a-trace']],
    ['an all-zero trace id', ['traceparent', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`]],
    ['upper-case hex', ['traceparent', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01']],
    ['two of them', ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'traceparent', '00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']],
  ]

  it.each(badTraces)('starts a new trace, without tracestate, for %s', async (_name, trace) => {
    const replies: Reply[] = []
    for (let i = 0; i < 2; i += 1) replies.push(await send(base, '/orders/1', { headers: [...bearer(tokens.read), ...trace, 'tracestate', 'vendor=opaque'] }))
    const [first, second] = replies.map((reply) => echoed(reply).headers)
    expect(first!.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    expect(first!.traceparent!.slice(3, 35)).not.toBe(second!.traceparent!.slice(3, 35))
    expect(first!.traceparent).not.toContain('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(first!.tracestate).toBeUndefined()
  })
})
