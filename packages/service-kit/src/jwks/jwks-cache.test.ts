import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { encodeAccessToken, verifyAccessToken, type SigningAlgorithm } from '@meshguard/token'
import { exportJWK } from 'jose'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { JwksCache, type JwksCacheOptions } from './jwks-cache.js'

type Handler = (request: IncomingMessage, response: ServerResponse) => void

/** A loopback HTTP endpoint whose answer each test can change, slow down or break; it counts requests. */
class Endpoint {
  readonly requests: { method: string | undefined; path: string | undefined; accept: string | undefined }[] = []
  handler: Handler = (_request, response) => response.writeHead(404).end()
  readonly #server = createServer((request, response) => {
    this.requests.push({ method: request.method, path: request.url, accept: request.headers.accept })
    this.handler(request, response)
  })
  #port = 0

  get hits(): number {
    return this.requests.length
  }
  get url(): URL {
    return new URL(`http://127.0.0.1:${this.#port}/.well-known/jwks.json`)
  }
  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve))
    this.#port = (this.#server.address() as AddressInfo).port
  }
  async close(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => {
        resolve()
      }))
  }
  answer(status: number, body: string, contentType = 'application/json'): this {
    this.handler = (_request, response) => response.writeHead(status, { 'content-type': contentType }).end(body)
    return this
  }
  serve(...keys: unknown[]): this {
    return this.answer(200, JSON.stringify({ keys }), 'application/jwk-set+json')
  }
}

let keys: Record<'ec' | 'ec2' | 'ed' | 'rsa' | 'rsa1024' | 'p384', { publicKey: KeyObject; privateKey: KeyObject }>
const jwk = async (key: KeyObject, extra: Record<string, unknown>) => ({ ...(await exportJWK(key)), ...extra })

beforeAll(() => {
  keys = {
    ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    ec2: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    ed: generateKeyPairSync('ed25519'),
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 }),
    p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  }
})

describe('JwksCache', () => {
  let endpoint: Endpoint
  let canary: Endpoint
  let now: number
  let errors: Error[]
  const caches: JwksCache[] = []
  const make = (options: Partial<JwksCacheOptions> = {}): JwksCache => {
    const cache = new JwksCache({ jwksUri: endpoint.url, now: () => now, onError: (err) => errors.push(err), timeoutMs: 300, ...options })
    caches.push(cache)
    return cache
  }
  const started = async (options: Partial<JwksCacheOptions> = {}): Promise<JwksCache> => {
    const cache = make(options)
    await cache.start()
    return cache
  }
  const messages = () => errors.map((err) => err.message).join('\n')

  beforeEach(async () => {
    endpoint = new Endpoint()
    canary = new Endpoint()
    canary.answer(200, '{"keys":[]}')
    await Promise.all([endpoint.listen(), canary.listen()])
    now = 1_700_000_000_000
    errors = []
  })
  afterEach(async () => {
    for (const cache of caches.splice(0)) cache.close()
    await Promise.all([endpoint.close(), canary.close()])
  })

  it('is not ready before start, then serves the fetched keys by kid to the token verifier', async () => {
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'k1', alg: 'ES256', use: 'sig' }))
    const cache = make()
    expect([cache.ready, cache.keyFor('k1'), cache.stats]).toEqual([false, undefined, { fetches: 0, failures: 0, lastSuccessAt: undefined }])
    await cache.start()
    expect(cache.ready).toBe(true)
    expect(cache.keyFor('k1')?.alg).toBe('ES256')
    expect(cache.keyFor('k1')?.publicKey.equals(keys.ec.publicKey)).toBe(true)
    expect(cache.keyFor('k2')).toBeUndefined()
    expect(cache.stats).toEqual({ fetches: 1, failures: 0, lastSuccessAt: now })
    expect(endpoint.requests).toEqual([{ method: 'GET', path: '/.well-known/jwks.json', accept: 'application/jwk-set+json, application/json' }])

    const nowSec = Math.floor(now / 1000)
    const claims = { iss: 'https://auth.test', sub: 'alice', aud: 'orders', exp: nowSec + 60, iat: nowSec, nbf: nowSec, jti: 'j1', client_id: 'web', scope: 'orders.read' }
    const token = encodeAccessToken(claims, { kid: 'k1', alg: 'ES256', privateKey: keys.ec.privateKey })
    const result = verifyAccessToken(token, { issuer: 'https://auth.test', now: nowSec, clockToleranceSec: 0, keyFor: (kid) => cache.keyFor(kid) })
    expect(result).toMatchObject({ ok: true, kid: 'k1' })
  })

  it('refetches once for an unknown kid, finds a newly published key, and reuses the KeyObjects it holds', async () => {
    const first = await jwk(keys.ec.publicKey, { kid: 'k1' })
    endpoint.serve(first)
    const cache = await started()
    const held = cache.keyFor('k1')
    endpoint.serve(first, await jwk(keys.ed.publicKey, { kid: 'k2' }))
    expect((await cache.getKey('k2'))?.alg).toBe('EdDSA')
    expect(endpoint.hits).toBe(2)
    expect(await cache.getKey('k2')).toBeDefined()
    expect(endpoint.hits).toBe(2)
    expect(cache.keyFor('k1')).toBe(held)
  })

  it('answers 1000 concurrent random kids with one fetch per cooldown window', async () => {
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'k1' }))
    const cache = await started({ unknownKidCooldownMs: 30_000 })
    const flood = async () => {
      const found = await Promise.all(Array.from({ length: 1000 }, () => cache.getKey(randomUUID())))
      expect(found.every((key) => key === undefined)).toBe(true)
    }
    await flood()
    expect(endpoint.hits).toBe(2)
    now += 29_999
    await flood()
    expect(endpoint.hits).toBe(2)
    now += 1
    await flood()
    expect(endpoint.hits).toBe(3)
    expect(await cache.getKey('k1')).toBeDefined()
    expect(endpoint.hits).toBe(3)
  })

  it('counts a failed unknown-kid refetch against the cooldown and lets it extend nothing', async () => {
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'k1' }))
    const cache = await started({ unknownKidCooldownMs: 30_000, maxStaleMs: 60_000 })
    endpoint.answer(500, 'down')
    now += 1_000
    await Promise.all(Array.from({ length: 100 }, (_, i) => cache.getKey(`random-${i}`)))
    await cache.getKey('another')
    expect(endpoint.hits).toBe(2)
    expect(cache.stats).toEqual({ fetches: 2, failures: 1, lastSuccessAt: now - 1_000 })
    now += 59_001
    expect(cache.keyFor('k1')).toBeUndefined()
  })

  it('shares one request among concurrent refreshes', async () => {
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'k1' }))
    const cache = make()
    await Promise.all([cache.start(), cache.refresh(), cache.refresh(), cache.getKey('k1')])
    expect(endpoint.hits).toBe(1)
  })

  it('replaces the set as a whole: a key the issuer dropped stops being served', async () => {
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'old' }))
    const cache = await started()
    endpoint.serve(await jwk(keys.ec2.publicKey, { kid: 'new' }))
    await cache.refresh()
    expect([cache.keyFor('old'), cache.keyFor('new')?.alg]).toEqual([undefined, 'ES256'])
  })

  it.each([
    ['closed', async (e: Endpoint) => e.close(), async (e: Endpoint, port: number) => e.listen(port)],
    ['answering 500', (e: Endpoint) => e.answer(500, 'oops'), undefined],
  ] as const)(
    'serves the last good keys while the endpoint is %s, until maxStaleMs; then fails closed and recovers by itself',
    async (_name, breakIt, reopen) => {
      const good = await jwk(keys.ec.publicKey, { kid: 'k1' })
      endpoint.serve(good)
      const cache = await started({ maxStaleMs: 60_000, refreshIntervalMs: 20 })
      const port = endpoint.url.port
      await breakIt(endpoint)
      await expect(cache.refresh()).rejects.toThrow()
      now += 60_000
      expect([cache.ready, cache.keyFor('k1')?.alg]).toEqual([true, 'ES256'])
      now += 1
      expect([cache.ready, cache.keyFor('k1'), await cache.getKey('k1')]).toEqual([false, undefined, undefined])
      const failures = cache.stats.failures
      await vi.waitFor(() => {
        expect(cache.stats.failures).toBeGreaterThan(failures + 1)
      })
      expect(cache.keyFor('k1')).toBeUndefined()
      if (reopen) await reopen(endpoint, Number(port))
      endpoint.serve(good)
      await vi.waitFor(() => {
        expect(cache.keyFor('k1')).toBeDefined()
      })
      expect(cache.stats.lastSuccessAt).toBe(now)
      expect(errors.length).toBeGreaterThan(0)
    },
  )

  it.each([
    ['headers', (_q: IncomingMessage, r: ServerResponse) => void setTimeout(() => r.end('{"keys":[]}'), 3_000).unref()],
    ['body', (_q: IncomingMessage, r: ServerResponse) => r.writeHead(200).write('{"keys":')],
    [
      'trickling body',
      (_q: IncomingMessage, r: ServerResponse) => {
        const drip = setInterval(() => r.write(' '), 50)
        r.writeHead(200).write('{"keys":')
        r.on('close', () => {
          clearInterval(drip)
        })
      },
    ],
  ])('gives up on slow %s after about timeoutMs and keeps its keys', async (_name, slow) => {
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'k1' }))
    const cache = await started({ timeoutMs: 200 })
    endpoint.handler = slow
    const begin = performance.now()
    await expect(cache.refresh()).rejects.toThrow()
    expect(performance.now() - begin).toBeLessThan(1_000)
    expect(cache.keyFor('k1')).toBeDefined()
    expect(cache.stats.failures).toBe(1)
  })

  it('never fetches from anywhere but jwksUri: not x5u, jku or x5c, not a redirect', async () => {
    const certUrl = new URL('/cert.pem', canary.url).href
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'k1', x5u: certUrl, jku: canary.url.href, x5c: ['AAAA'] }))
    const cache = await started()
    expect(cache.keyFor('k1')?.publicKey.equals(keys.ec.publicKey)).toBe(true)
    await cache.getKey('unknown')
    endpoint.handler = (_q, r) => r.writeHead(302, { location: canary.url.href }).end()
    await expect(cache.refresh()).rejects.toThrow(/answered 302/)
    expect(canary.hits).toBe(0)
    expect(endpoint.hits).toBe(3)
  })

  const rejected: [string, () => Promise<Record<string, unknown>>, RegExp][] = [
    ['a private EC key', () => jwk(keys.ec.privateKey, { kid: 'bad' }), /bad: not a public key/],
    ['a private RSA key', () => jwk(keys.rsa.privateKey, { kid: 'bad' }), /bad: not a public key/],
    ['a public key with a stray d', () => jwk(keys.ed.publicKey, { kid: 'bad', d: 'AAAA' }), /bad: not a public key/],
    ['a symmetric key', async () => Promise.resolve({ kty: 'oct', k: 'c2VjcmV0', kid: 'bad' }), /bad: not a public key/],
    ['use: enc', () => jwk(keys.rsa.publicKey, { kid: 'bad', use: 'enc' }), /bad: use is not sig/],
    ['key_ops without verify', () => jwk(keys.ec.publicKey, { kid: 'bad', key_ops: ['encrypt'] }), /bad: key_ops lacks verify/],
    ['RSA 1024', () => jwk(keys.rsa1024.publicKey, { kid: 'bad' }), /bad: does not fit RS256/],
    ['RSA 1024 with alg RS256', () => jwk(keys.rsa1024.publicKey, { kid: 'bad', alg: 'RS256' }), /bad: does not fit RS256/],
    ['alg HS256', () => jwk(keys.ec.publicKey, { kid: 'bad', alg: 'HS256' }), /bad: algorithm "HS256" is not allowed/],
    ['alg none', () => jwk(keys.ec.publicKey, { kid: 'bad', alg: 'none' }), /bad: algorithm "none" is not allowed/],
    ['alg null', () => jwk(keys.ec.publicKey, { kid: 'bad', alg: null }), /bad: algorithm null is not allowed/],
    ['alg RS256 on an EC key', () => jwk(keys.ec.publicKey, { kid: 'bad', alg: 'RS256' }), /bad: does not fit RS256/],
    ['alg ES256 on a P-384 key', () => jwk(keys.p384.publicKey, { kid: 'bad', alg: 'ES256' }), /bad: does not fit ES256/],
    ['P-384 without alg', () => jwk(keys.p384.publicKey, { kid: 'bad' }), /bad: algorithm cannot be inferred/],
    ['EdDSA on an EC key', () => jwk(keys.ec.publicKey, { kid: 'bad', alg: 'EdDSA' }), /bad: does not fit EdDSA/],
    ['broken key material', () => jwk(keys.ec.publicKey, { kid: 'bad', x: 'AAAA' }), /bad: not a valid key/],
    ['no kid', () => jwk(keys.ec.publicKey, {}), /a key without a kid/],
    ['a numeric kid', () => jwk(keys.ec.publicKey, { kid: 7 }), /a key without a kid/],
    ['not an object', async () => Promise.resolve('bad' as unknown as Record<string, unknown>), /an entry that is not an object/],
  ]
  it.each(rejected)('skips %s, reports why, and keeps the good keys', async (_name, build, reason) => {
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'good' }), await build())
    const cache = await started()
    expect([cache.keyFor('good')?.alg, cache.keyFor('bad'), cache.keyFor('7')]).toEqual(['ES256', undefined, undefined])
    expect(errors).toHaveLength(1)
    expect(messages()).toMatch(reason)
  })

  it('reports all the keys it skipped in one error per fetch, and keeps the first of duplicate kids', async () => {
    endpoint.serve(
      await jwk(keys.ec.publicKey, { kid: 'good' }),
      await jwk(keys.ec2.publicKey, { kid: 'good' }),
      await jwk(keys.ec.privateKey, { kid: 'private' }),
      await jwk(keys.rsa.publicKey, { kid: 'enc', use: 'enc' }),
    )
    const cache = await started()
    expect(cache.keyFor('good')?.publicKey.equals(keys.ec.publicKey)).toBe(true)
    expect(errors).toHaveLength(1)
    expect(messages()).toMatch(/good: duplicate kid.*private: not a public key.*enc: use is not sig/)
  })

  it.each([
    ['an EC P-256 key', 'ES256', 'ec', {}],
    ['an Ed25519 key', 'EdDSA', 'ed', {}],
    ['an RSA 2048 key', 'RS256', 'rsa', {}],
    ['an RSA key naming alg, use and key_ops', 'RS256', 'rsa', { alg: 'RS256', use: 'sig', key_ops: ['verify'] }],
  ] as const)('takes %s as %s', async (_name, alg, type, extra) => {
    endpoint.serve(await jwk(keys[type].publicKey, { ...extra, kid: 'k' }))
    const cache = await started()
    expect(cache.keyFor('k')?.alg).toBe(alg)
    expect(errors).toEqual([])
  })

  it('skips keys for algorithms it was not given', async () => {
    endpoint.serve(await jwk(keys.rsa.publicKey, { kid: 'inferred' }), await jwk(keys.rsa.publicKey, { kid: 'named', alg: 'RS256' }), await jwk(keys.ed.publicKey, { kid: 'ed' }))
    const cache = await started({ algorithms: ['EdDSA'] })
    expect(['inferred', 'named', 'ed'].map((kid) => cache.keyFor(kid)?.alg)).toEqual([undefined, undefined, 'EdDSA'])
    expect(messages()).toMatch(/inferred: algorithm "RS256" is not allowed.*named: algorithm "RS256" is not allowed/)
  })

  const broken: [string, (e: Endpoint) => unknown, RegExp][] = [
    ['no usable key', (e) => e.serve({ kty: 'oct', k: 'c2VjcmV0', kid: 'k' }), /no usable signing key/],
    ['an empty key set', (e) => e.serve(), /no usable signing key/],
    ['a body that is not JSON', (e) => e.answer(200, '<html>', 'text/html'), /did not send JSON/],
    ['JSON null', (e) => e.answer(200, 'null'), /no "keys" array/],
    ['a JSON array', (e) => e.answer(200, '[{"keys":[]}]'), /no "keys" array/],
    ['a document without keys', (e) => e.answer(200, '{"jwks":[]}'), /no "keys" array/],
    ['keys that is not an array', (e) => e.answer(200, '{"keys":{"0":{}}}'), /no "keys" array/],
    ['a body over 512 KiB', (e) => e.answer(200, JSON.stringify({ keys: [], pad: 'x'.repeat(600_000) })), /more than 524288 bytes/],
    ['a 404', (e) => e.answer(404, '{"keys":[]}'), /answered 404/],
    ['a 204', (e) => (e.handler = (_q, r) => r.writeHead(204).end()), /answered 204/],
  ]
  it.each(broken)('fails on %s, keeping the previous set, and fails start with it', async (_name, breakIt, reason) => {
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'k1' }))
    const cache = await started()
    const lastSuccessAt = cache.stats.lastSuccessAt
    breakIt(endpoint)
    now += 1_000
    await expect(cache.refresh()).rejects.toThrow(reason)
    expect([cache.keyFor('k1')?.alg, cache.stats]).toEqual(['ES256', { fetches: 2, failures: 1, lastSuccessAt }])
    expect(messages()).toMatch(reason)
    const fresh = make()
    await expect(fresh.start()).rejects.toThrow(reason)
    expect(fresh.ready).toBe(false)
  })

  it('does not let a throwing onError break a fetch or a lookup', async () => {
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'k1' }), await jwk(keys.ec.privateKey, { kid: 'private' }))
    const onError = vi.fn(() => {
      throw new Error('logger down')
    })
    const cache = await started({ onError })
    expect(cache.keyFor('k1')).toBeDefined()
    endpoint.answer(500, '')
    await expect(cache.refresh()).rejects.toThrow(/answered 500/)
    expect(await cache.getKey('unknown')).toBeUndefined()
    expect(cache.keyFor('k1')).toBeDefined()
    expect(onError).toHaveBeenCalledTimes(3)
  })

  it('refreshes in the background until closed; close is idempotent and also stops a start in progress', async () => {
    endpoint.serve(await jwk(keys.ec.publicKey, { kid: 'k1' }))
    const cache = await started({ refreshIntervalMs: 10 })
    await vi.waitFor(() => {
      expect(endpoint.hits).toBeGreaterThan(2)
    })
    cache.close()
    cache.close()
    await cache.refresh()
    const hits = endpoint.hits
    const overtaken = make({ refreshIntervalMs: 10 })
    const starting = overtaken.start()
    overtaken.close()
    await starting
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(endpoint.hits).toBe(hits + 1)
    expect(overtaken.ready).toBe(true)
  })

  const invalid: [string, Partial<Record<keyof JwksCacheOptions, unknown>>][] = [
    ['jwksUri', { jwksUri: 'http://127.0.0.1/jwks' }],
    ['jwksUri', { jwksUri: undefined }],
    ['jwksUri', { jwksUri: new URL('file:///etc/passwd') }],
    ['refreshIntervalMs', { refreshIntervalMs: -1 }],
    ['refreshIntervalMs', { refreshIntervalMs: 0 }],
    ['refreshIntervalMs', { refreshIntervalMs: 2 ** 31 }],
    ['unknownKidCooldownMs', { unknownKidCooldownMs: -30_000 }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
    ['maxStaleMs', { maxStaleMs: Number.POSITIVE_INFINITY }],
    ['maxStaleMs', { maxStaleMs: '60000' }],
    ['algorithms', { algorithms: ['HS256'] }],
    ['algorithms', { algorithms: ['ES256', 'none'] }],
    ['algorithms', { algorithms: [] }],
    ['now', { now: 1_700_000_000_000 }],
    ['onError', { onError: 'console.error' }],
  ]
  it.each(invalid)('refuses a bad %s when created: %j', (option, bad) => {
    expect(() => make(bad as Partial<JwksCacheOptions>)).toThrow(TypeError)
    expect(() => make(bad as Partial<JwksCacheOptions>)).toThrow(new RegExp(`^${option} `))
  })

  it('accepts every supported algorithm list', () => {
    for (const algorithms of [['ES256'], ['RS256', 'EdDSA']] satisfies SigningAlgorithm[][]) expect(() => make({ algorithms })).not.toThrow()
  })
})
