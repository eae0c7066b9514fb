import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { configWarnings, GatewayError, loadConfig, parseConfig } from '../src/index.js'

const minimal = {
  issuer: 'https://auth.example.com',
  upstreams: { orders: { instances: ['https://orders.internal:8443'] } },
  routes: [{ name: 'orders', match: { pathPrefix: '/orders' }, upstream: 'orders', audience: 'orders' }],
}

/** The problems a configuration is refused for, one per line. */
function problems(input: unknown): string[] {
  try {
    parseConfig(input)
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError)
    expect((err as GatewayError).code).toBe('ERR_CONFIG_INVALID')
    return (err as GatewayError).message.split('\n').slice(1).map((line) => line.replace(/^ *- /, ''))
  }
  return []
}

describe('the gateway configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshguard-gateway-config-'))
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('fills in a documented default for every option left out', () => {
    const config = parseConfig(minimal)
    expect(config).toEqual({
      listen: { host: '127.0.0.1', port: 8080, trustProxyHops: 0, keepAliveTimeoutMs: 5000, headersTimeoutMs: 10_000, requestTimeoutMs: 300_000 },
      issuer: 'https://auth.example.com',
      jwksUri: 'https://auth.example.com/.well-known/jwks.json',
      tokens: { clockToleranceSec: 30, cacheSize: 10_000, jwksRefreshIntervalMs: 300_000, jwksMaxStaleMs: 3_600_000, jwksUnknownKidCooldownMs: 30_000, realm: 'meshguard' },
      upstreams: {
        orders: { instances: ['https://orders.internal:8443'], allowPlainHttp: false, connections: 64, connectTimeoutMs: 5000, keepAliveTimeoutMs: 4000, passiveHealth: { failures: 1, cooldownMs: 10_000 } },
      },
      routes: [
        { name: 'orders', match: { pathPrefix: '/orders' }, upstream: 'orders', audience: 'orders', stripPrefix: false, policy: 'authenticated', timeoutMs: 30_000, retries: 1, bodyLimitBytes: 1_048_576 },
      ],
      log: { level: 'info', accessLog: true },
      exposeMetrics: false,
      drainTimeoutMs: 30_000,
    })
  })

  it('freezes the configuration, arrays included', () => {
    const config = parseConfig(minimal)
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.routes)).toBe(true)
    expect(Object.isFrozen(config.routes[0]!.match)).toBe(true)
    expect(Object.isFrozen(config.upstreams.orders!.instances)).toBe(true)
  })

  it('fills in CORS and rate-limit defaults', () => {
    const config = parseConfig({
      ...minimal,
      routes: [{ ...minimal.routes[0], cors: { origins: ['https://app.example.com'] }, rateLimit: { perClient: { ratePerSec: 2.5 } } }],
    })
    expect(config.routes[0]!.cors).toEqual({
      origins: ['https://app.example.com'],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      headers: ['authorization', 'content-type'],
      exposeHeaders: [],
      credentials: false,
      maxAgeSec: 600,
    })
    expect(config.routes[0]!.rateLimit).toEqual({ perClient: { ratePerSec: 2.5, burst: 3 } })
  })

  it('fills in the phantom-token and Redis defaults, the introspection endpoint from the issuer', () => {
    const config = parseConfig({ ...minimal, introspection: { clientId: 'edge', clientSecret: 's3cret' }, redis: { url: 'rediss://redis.internal:6380' } })
    expect(config.introspection).toEqual({
      clientId: 'edge',
      clientSecret: 's3cret',
      endpoint: 'https://auth.example.com/oauth2/introspect',
      timeoutMs: 2000,
      cacheSize: 10_000,
      maxPending: 1000,
    })
    expect(config.redis).toEqual({ url: 'rediss://redis.internal:6380', keyPrefix: 'meshguard:', commandTimeoutMs: 500 })
    expect(parseConfig(minimal)).not.toHaveProperty('introspection')
  })

  it('takes the gateway client and Redis from the environment', () => {
    const json = join(dir, 'phantom.json')
    writeFileSync(json, JSON.stringify({ ...minimal, introspection: { clientId: 'from-file' } }))
    const env = { MESHGUARD_GATEWAY_CLIENT_SECRET: 'from-env', REDIS_URL: 'redis://127.0.0.1:6379/2' }
    expect(loadConfig({ file: json, env })).toMatchObject({ introspection: { clientId: 'from-file', clientSecret: 'from-env' }, redis: { url: 'redis://127.0.0.1:6379/2' } })
    expect(loadConfig({ file: json, env: { ...env, MESHGUARD_GATEWAY_CLIENT_ID: 'edge' } }).introspection?.clientId).toBe('edge')
  })

  it('refuses phantom-token and Redis settings it cannot use, all at once', () => {
    expect(
      problems({
        ...minimal,
        introspection: { clientId: 'edge', endpoint: 'http://auth.example.com/oauth2/introspect', timeoutMs: 5 },
        redis: { url: 'http://redis:6379', keyPrefix: 'has space' },
      }),
    ).toEqual([
      'introspection.clientSecret: required: the gateway client secret (or MESHGUARD_GATEWAY_CLIENT_SECRET)',
      'introspection.endpoint: must use https unless the host is loopback (localhost, 127.0.0.0/8, [::1])',
      expect.stringMatching(/^introspection\.timeoutMs: /),
      'redis.url: must be a redis:// or rediss:// URL',
      'redis.keyPrefix: must be 1-64 letters, digits, ":", ".", "_" or "-"',
    ])
  })

  it('warns about Redis reached in clear off loopback', () => {
    expect(configWarnings(parseConfig({ ...minimal, redis: { url: 'redis://redis.internal:6379' } }))).toEqual([
      expect.stringMatching(/^Redis at redis\.internal is reached over plain redis:\/\//),
    ])
    expect(configWarnings(parseConfig({ ...minimal, redis: { url: 'rediss://redis.internal:6379' } }))).toEqual([])
    expect(configWarnings(parseConfig({ ...minimal, redis: { url: 'redis://127.0.0.1:6379' } }))).toEqual([])
  })

  it('reports every problem at once', () => {
    const found = problems({
      issuer: 'http://auth.example.com',
      revocationEventsUri: 'https://user:pw@auth.example.com/events',
      listen: { port: 70000 },
      upstreams: {
        orders: { instances: ['http://10.0.0.5:8080'] },
        secure: { instances: ['http://127.0.0.1:8080'], tls: { mode: 'tls' } },
        mesh: { instances: ['https://payments:8443'], tls: { mode: 'mtls', spiffeId: 'https://not-spiffe' } },
        empty: { instances: [] },
      },
      routes: [
        { name: 'a', match: { pathPrefix: '/orders/' }, upstream: 'orders', audience: 'orders' },
        { name: 'a', match: { pathPrefix: '/x' }, upstream: 'nowhere', audience: 'orders' },
        { name: 'b', match: { pathPrefix: '/x' }, upstream: 'orders', audience: 'orders' },
        { name: 'c', match: { pathPrefix: '/-/healthz' }, upstream: 'orders', policy: 'public' },
        { name: 'd', match: { pathPrefix: '/a/../b' }, upstream: 'orders', policy: 'authenticated' },
        { name: 'e', match: { pathPrefix: '/e' }, upstream: 'orders', policy: 'public', cors: { origins: '*', credentials: true }, timeoutMs: 10 },
        { name: 'f', match: { pathPrefix: '/f', host: 'Shop.Example' }, upstream: 'orders', policy: { scopes: ['bad scope"'] }, audience: 'x' },
        { name: 'g', match: { pathPrefix: '/g' }, upstream: 'orders', policy: 'public', cors: { origins: ['https://app.example.com/'] } },
      ],
      surprise: true,
    })
    expect(found).toEqual(
      expect.arrayContaining([
        'issuer: must use https unless the host is loopback (localhost, 127.0.0.0/8, [::1])',
        'revocationEventsUri: must not carry credentials',
        expect.stringMatching(/^listen\.port: /),
        'upstreams.orders.instances.0: is plain http off loopback: tokens would travel in clear; use https (tls or mtls), or set allowPlainHttp: true',
        'upstreams.secure.instances.0: must be https when tls is set',
        expect.stringMatching(/^upstreams\.mesh\.tls\.spiffeId.*SPIFFE ID/),
        expect.stringMatching(/^upstreams\.empty\.instances: /),
        'routes.0.match.pathPrefix: must not end with / (a prefix matches whole segments: /api matches /api and /api/x, not /apix)',
        'routes.1.name: "a" is the name of an earlier route',
        'routes.1.upstream: "nowhere" is not one of upstreams',
        'routes.2.match: matches the same host and path prefix as an earlier route',
        "routes.3.match.pathPrefix: must not use /-/, reserved for the gateway's health and metrics",
        'routes.4.match.pathPrefix: must not contain . or .. segments',
        'routes.4.audience: is required unless the policy is public: it names the resource server whose tokens the route accepts',
        "routes.5.cors.credentials: cannot be true with origins '*': list the origins allowed credentials",
        expect.stringMatching(/^routes\.5\.timeoutMs: /),
        'routes.6.match.host: must be a lower-case host name without port',
        'routes.6.policy.scopes.0: must be a scope token (RFC 6749 §3.3)',
        expect.stringMatching(/^routes\.7\.cors\.origins\.0: must be an exact origin/),
        expect.stringMatching(/^\(root\): .*surprise/),
      ]),
    )
    expect(found).toHaveLength(20)
  })

  it.each([
    ['an http issuer on loopback', { issuer: 'http://127.0.0.1:4000' }],
    ['an http upstream on loopback', { upstreams: { orders: { instances: ['http://localhost:8080'] } } }],
    ['a plain http upstream acknowledged', { upstreams: { orders: { instances: ['http://orders:8080'], allowPlainHttp: true } } }],
    ['an upstream with a base path', { upstreams: { orders: { instances: ['https://orders:8443/api/v1'] } } }],
  ])('accepts %s', (_name, patch) => {
    expect(problems({ ...minimal, ...patch })).toEqual([])
  })

  it('reads YAML and JSON files, with the environment over the file', () => {
    const yaml = join(dir, 'gateway.yaml')
    writeFileSync(
      yaml,
      [
        'issuer: https://auth.example.com',
        'listen:',
        '  port: 9000',
        'upstreams:',
        '  orders:',
        '    instances: [https://orders.internal:8443]',
        'routes:',
        '  - name: orders',
        '    match: { pathPrefix: /orders }',
        '    upstream: orders',
        '    policy: { scopes: [orders.read] }',
        '    audience: orders',
        '',
      ].join('\n'),
    )
    const json = join(dir, 'gateway.json')
    writeFileSync(json, JSON.stringify(minimal))
    expect(loadConfig({ file: yaml, env: {} }).listen.port).toBe(9000)
    expect(loadConfig({ file: yaml, env: {} }).routes[0]!.policy).toEqual({ scopes: ['orders.read'] })
    expect(loadConfig({ file: yaml, env: { MESHGUARD_GATEWAY_PORT: '9100', MESHGUARD_GATEWAY_ISSUER: 'https://other.example.com' } })).toMatchObject({
      listen: { port: 9100 },
      issuer: 'https://other.example.com',
      jwksUri: 'https://other.example.com/.well-known/jwks.json',
    })
    expect(loadConfig({ file: json, env: {}, overrides: { listen: { port: 0 } } }).listen.port).toBe(0)
  })

  it.each([
    ['a missing file', 'missing.yaml', undefined, /cannot read configuration file/],
    ['a YAML syntax error', 'broken.yaml', 'routes: [\n', /is not valid YAML or JSON/],
    ['a duplicate key', 'twice.yaml', 'issuer: a\nissuer: b\n', /is not valid YAML or JSON/],
    ['a list at the top', 'list.yaml', '- a\n', /must hold an object at the top level/],
  ])('refuses %s', (_name, file, content, message) => {
    if (content !== undefined) writeFileSync(join(dir, file), content)
    expect(() => loadConfig({ file: join(dir, file), env: {} })).toThrow(message)
  })

  it('warns about a public listener without TLS, public metrics and plain http upstreams', () => {
    const config = parseConfig({ ...minimal, listen: { host: '0.0.0.0' }, exposeMetrics: true, upstreams: { orders: { instances: ['http://orders:8080'], allowPlainHttp: true } } })
    expect(configWarnings(config)).toHaveLength(3)
    expect(configWarnings(parseConfig(minimal))).toEqual([])
  })
})
