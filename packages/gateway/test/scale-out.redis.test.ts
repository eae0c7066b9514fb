import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig, type Gateway, type GatewayConfigInput } from '../src/index.js'
import { createTestDatabase, type TestDatabase } from '../../auth-server/test/helpers/postgres.js'
import { basic, postForm, startTestServer, type TestServer } from '../../auth-server/test/helpers/test-server.js'
import { EchoUpstream } from './helpers/echo-upstream.js'
import { RedisServer } from './helpers/redis-server.js'
import { send } from './helpers/send.js'
import { startGateway } from './helpers/test-gateway.js'

const ISSUER = 'https://auth.mesh.test'
const EDGE_SECRET = randomBytes(32).toString('base64url')

/**
 * Scale-out (issue 5): two gateway instances and two authorization server instances on one
 * PostgreSQL and one Redis (the test's own, so that it can be stopped). The gateways do not
 * follow the SSE stream here: revocations reach them over Redis or not at all.
 */
describe('two gateways and two authorization servers on one PostgreSQL and one Redis', () => {
  const redis = new RedisServer()
  const upstream = new EchoUpstream()
  const keyPrefix = `meshguard-test-${randomBytes(4).toString('hex')}:`
  let database: TestDatabase
  let a: TestServer
  let b: TestServer
  const secrets: Record<string, string> = {}
  const gateways: Array<{ gateway: Gateway; url: string }> = []

  const gatewayConfig = (auth: TestServer): GatewayConfigInput => ({
    issuer: ISSUER,
    jwksUri: auth.jwksUri,
    introspection: { clientId: 'edge', clientSecret: EDGE_SECRET, endpoint: auth.introspectionEndpoint },
    redis: { url: redis.url, keyPrefix },
    upstreams: { orders: { instances: [upstream.url] } },
    routes: [
      { name: 'orders', match: { pathPrefix: '/orders' }, upstream: 'orders', audience: 'orders' },
      { name: 'limited', match: { pathPrefix: '/limited' }, upstream: 'orders', audience: 'orders', rateLimit: { perClient: { ratePerSec: 0.01, burst: 3 } } },
    ],
    exposeMetrics: true,
  })
  const token = async (auth: TestServer, client: string) => {
    const reply = await postForm(auth.tokenEndpoint, { grant_type: 'client_credentials', scope: 'orders.read' }, { authorization: basic(client, secrets[client]!) })
    return reply.body.access_token as string
  }
  const revoke = async (auth: TestServer, client: string, revoked: string) => {
    expect((await postForm(auth.revocationEndpoint, { token: revoked }, { authorization: basic(client, secrets[client]!) })).status).toBe(200)
  }
  const get = (url: string, bearer: string, path = '/orders/1') => send(url, path, { headers: ['authorization', `Bearer ${bearer}`] })
  const statuses = (bearer: string, path?: string) => Promise.all(gateways.map(({ url }) => get(url, bearer, path).then((reply) => reply.status)))
  /** Polls until every gateway answers `status`; returns how long it took (ms). */
  const until = async (bearer: string, status: number, withinMs: number) => {
    const started = performance.now()
    while ((await statuses(bearer)).some((answer) => answer !== status)) {
      if (performance.now() - started > withinMs) throw new Error(`the gateways answered ${(await statuses(bearer)).join(', ')} after ${withinMs} ms, not ${status}`)
      await sleep(10)
    }
    return performance.now() - started
  }
  const metric = async (url: string, line: string) => {
    const text = (await send(url, '/-/metrics')).text
    return Number(text.split('\n').find((row) => row.startsWith(`${line} `))?.split(' ')[1] ?? 0)
  }

  beforeAll(async () => {
    await redis.start()
    database = await createTestDatabase()
    const shared = {
      databaseUrl: database.url,
      keyEncryptionKey: randomBytes(32).toString('base64url'),
      config: { issuer: ISSUER, signing: { reloadIntervalSec: 1 }, redis: { url: redis.url, keyPrefix } },
    }
    ;[a, b] = await Promise.all([startTestServer(shared), startTestServer(shared)])
    await a.resource('orders', ['orders.read'])
    secrets.web = (await a.client({ id: 'web', scopes: ['orders.read'], tokenFormat: 'reference' }))!
    secrets.svc = (await a.client({ id: 'svc', scopes: ['orders.read'] }))!
    secrets.edge = (await a.client({ id: 'edge', scopes: [], phantomTokens: true, secret: EDGE_SECRET }))!
    await upstream.start()
    gateways.push(await startGateway(gatewayConfig(a)), await startGateway(gatewayConfig(b)))
  })
  afterAll(async () => {
    await Promise.all(gateways.map(({ gateway }) => gateway.close()))
    await Promise.all([a.stop(), b.stop()])
    a.cleanup()
    b.cleanup()
    await database.drop()
    await upstream.stop()
    await redis.stop()
  })

  it('shares exchanges: a token one gateway exchanged is not introspected again by the other', async () => {
    const opaque = await token(a, 'web')
    const [first, second] = gateways
    expect((await get(first!.url, opaque)).status).toBe(200)
    expect((await get(second!.url, opaque)).status).toBe(200)
    expect(await metric(first!.url, 'meshguard_gateway_phantom_exchanges_total{outcome="introspected"}')).toBe(1)
    expect(await metric(second!.url, 'meshguard_gateway_phantom_exchanges_total{outcome="shared"}')).toBe(1)
  })

  it('enforces a revocation made through either authorization server at both gateways within one second', async () => {
    const opaque = await token(a, 'web')
    const jwt = await token(b, 'svc')
    expect(await statuses(opaque)).toEqual([200, 200])
    expect(await statuses(jwt)).toEqual([200, 200])
    await revoke(b, 'web', opaque)
    expect(await until(opaque, 401, 1000)).toBeLessThan(1000)
    await revoke(a, 'svc', jwt)
    expect(await until(jwt, 401, 1000)).toBeLessThan(1000)
  })

  it('keeps refusing a token revoked over Redis after a reload builds a new verifier', async () => {
    const jwt = await token(a, 'svc')
    expect(await statuses(jwt)).toEqual([200, 200])
    await revoke(a, 'svc', jwt)
    await until(jwt, 401, 1000)
    const { gateway, url } = gateways[0]!
    await gateway.reload(parseConfig({ ...gatewayConfig(a), listen: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, tokens: { clockToleranceSec: 10 } }))
    expect((await get(url, jwt)).status).toBe(401)
    expect((await get(url, await token(a, 'svc'))).status).toBe(200)
  })

  it('holds one rate limit across both gateways', async () => {
    const jwt = await token(a, 'svc')
    const answers: number[] = []
    for (let i = 0; i < 8; i += 1) answers.push((await get(gateways[i % 2]!.url, jwt, '/limited/x')).status)
    expect(answers).toEqual([200, 200, 200, 429, 429, 429, 429, 429])
    const refused = await get(gateways[1]!.url, jwt, '/limited/x')
    expect(refused.body.error).toBe('too_many_requests')
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(1)
  })

  it('without Redis: fails closed for opaque tokens not in memory, keeps serving JWTs, and recovers when Redis returns', async () => {
    const jwt = await token(b, 'svc')
    const remembered = await token(a, 'web')
    const revokedMeanwhile = await token(a, 'web')
    for (const bearer of [jwt, remembered, revokedMeanwhile]) expect(await statuses(bearer)).toEqual([200, 200])

    await redis.stop()
    const fresh = await token(b, 'web')
    const hits = upstream.hits
    await until(fresh, 503, 5000)
    const refusal = await get(gateways[0]!.url, fresh)
    expect(refusal.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the token cannot be checked now: the gateways’ shared state is unreachable' })
    expect(upstream.hits).toBe(hits)
    expect(await statuses(jwt)).toEqual([200, 200])
    expect(await statuses(await token(a, 'svc'))).toEqual([200, 200])
    expect(await statuses(remembered)).toEqual([200, 200])
    // Rate limits fall back to each instance's own buckets rather than refusing everything.
    expect(await statuses(jwt, '/limited/x')).toEqual([200, 200])
    expect(await metric(gateways[0]!.url, 'meshguard_gateway_redis_connected')).toBe(0)
    // Revoked while no gateway can hear of it: published by the authorization server once Redis is back.
    await revoke(a, 'web', revokedMeanwhile)

    await redis.start()
    await until(fresh, 200, 10_000)
    await until(revokedMeanwhile, 401, 5000)
    expect(await statuses(remembered)).toEqual([200, 200])
    expect(await metric(gateways[1]!.url, 'meshguard_gateway_redis_connected')).toBe(1)
  })
})
