import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEvents } from './helpers/sse.js'
import { basic, postForm, startTestServer, type TestServer } from './helpers/test-server.js'

/** The machine's Redis (scripts/ensure-services.sh); this file keeps to its own key prefix. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * `redis.url`: every revocation is also pushed to Redis, for gateways to refuse the token within a
 * second, and kept in a sorted set for those that were away. The SSE stream is unchanged.
 */
describe('revocations pushed to Redis', () => {
  const keyPrefix = `meshguard-test-${randomBytes(6).toString('hex')}:`
  const channel = `${keyPrefix}revocations`
  const set = `${keyPrefix}revoked`
  const redis = new Redis(REDIS_URL)
  const subscriber = new Redis(REDIS_URL)
  const messages: string[] = []
  const servers: TestServer[] = []
  let ts: TestServer
  let secret: string

  const start = async (options: Parameters<typeof startTestServer>[0] = {}) => {
    const server = await startTestServer({ ...options, config: { redis: { url: REDIS_URL, keyPrefix }, ...options.config } })
    servers.push(server)
    return server
  }
  const issue = async (server: TestServer) =>
    (await postForm(server.tokenEndpoint, { grant_type: 'client_credentials', scope: 'api.read' }, { authorization: basic('svc', secret) })).body.access_token as string
  const revoke = async (server: TestServer, token: string) => {
    expect((await postForm(server.revocationEndpoint, { token }, { authorization: basic('svc', secret) })).status).toBe(200)
  }
  const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { jti: string; exp: number }
  const eventually = async <T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
    for (let attempt = 0; ; attempt += 1) {
      const value = await read()
      if (done(value) || attempt > 100) return value
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  beforeAll(async () => {
    subscriber.on('message', (_channel: string, message: string) => messages.push(message))
    await subscriber.subscribe(channel)
    ts = await start()
    await ts.resource('api', ['api.read'])
    secret = (await ts.client({ id: 'svc', scopes: ['api.read'] }))!
  })
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()))
    for (const server of servers) server.cleanup()
    await redis.del(set)
    await Promise.all([redis.quit(), subscriber.quit()])
  })

  it('publishes each revocation as {jti, exp} and keeps it in the set until its token expires, the SSE stream unchanged', async () => {
    const stream = readEvents(`${ts.baseUrl}/oauth2/revocations/events`)
    await stream.waitFor((event) => event.event === 'ready')
    const token = await issue(ts)
    const { jti, exp } = claimsOf(token)
    await revoke(ts, token)
    const published = await eventually(() => Promise.resolve(messages.map((message) => JSON.parse(message) as unknown)), (all) => all.length > 0)
    expect(published).toEqual([{ jti, exp }])
    expect(Number(await redis.zscore(set, jti))).toBe(exp)
    expect(JSON.parse((await stream.waitFor((event) => event.event === 'revoked')).data)).toEqual({ jti, exp })
    stream.stop()
  })

  it('fills the set with the revocations in force when it connects: a Redis restarted empty, or configured late', async () => {
    const token = await issue(ts)
    await revoke(ts, token)
    const { jti, exp } = claimsOf(token)
    await eventually(() => Promise.resolve(messages.filter((message) => message.includes(jti))), (seen) => seen.length > 0)
    await redis.del(set)
    // The same data directory, started again: the revocation was made before this instance connected.
    const again = await start({ dataDir: ts.dataDir, keyEncryptionKey: ts.keyEncryptionKey })
    expect(Number(await eventually(() => redis.zscore(set, jti), (score) => score !== null))).toBe(exp)
    await again.stop()
  })

  it('revokes as ever while Redis cannot be reached', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number }
        probe.close(() => {
          resolve(free)
        })
      })
    })
    const away = await start({ dataDir: ts.dataDir, keyEncryptionKey: ts.keyEncryptionKey, config: { redis: { url: `redis://127.0.0.1:${port}`, keyPrefix } } })
    const stream = readEvents(`${away.baseUrl}/oauth2/revocations/events`)
    await stream.waitFor((event) => event.event === 'ready')
    const token = await issue(away)
    const { jti, exp } = claimsOf(token)
    await revoke(away, token)
    expect(JSON.parse((await stream.waitFor((event) => event.event === 'revoked' && event.data.includes(jti))).data)).toEqual({ jti, exp })
    expect((await postForm(away.introspectionEndpoint, { token }, { authorization: basic('svc', secret) })).body).toEqual({ active: false })
    stream.stop()
  })
})
