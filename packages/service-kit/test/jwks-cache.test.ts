import { generateKeyPairSync } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { exportJWK } from 'jose'
import { JwksCache } from '../src/index.js'

type Handler = (request: IncomingMessage, response: ServerResponse) => void

/** A JWKS endpoint on loopback whose answer each test can change, slow down or break. */
class JwksEndpoint {
  hits = 0
  handler: Handler = (_request, response) => {
    response.end('{"keys":[]}')
  }
  readonly server: Server = createServer((request, response) => {
    this.hits += 1
    this.handler(request, response)
  })
  serve(keys: unknown[]): void {
    this.handler = (_request, response) => response.setHeader('content-type', 'application/json').end(JSON.stringify({ keys }))
  }
  get url(): URL {
    return new URL(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks`)
  }
  listen(): Promise<void> {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        resolve()
      })
    })
  }
}

async function publicJwk(kid: string, type: 'ec' | 'ed25519' | 'rsa1024' = 'ec'): Promise<Record<string, unknown>> {
  const pair =
    type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 1024 })
  return { ...(await exportJWK(pair.publicKey)), kid }
}

describe('JwksCache', () => {
  let endpoint: JwksEndpoint
  let now: number
  let cache: JwksCache
  const errors: Error[] = []
  const make = (options: Partial<ConstructorParameters<typeof JwksCache>[0]> = {}) =>
    new JwksCache({ jwksUri: endpoint.url, now: () => now, onError: (err) => errors.push(err), timeoutMs: 300, ...options })

  beforeEach(async () => {
    endpoint = new JwksEndpoint()
    await endpoint.listen()
    now = 1_000_000
    errors.length = 0
  })
  afterEach(() => {
    cache.close()
    endpoint.server.close()
  })

  it('fetches at start and infers algorithms from the key type', async () => {
    endpoint.serve([await publicJwk('ec'), await publicJwk('ed', 'ed25519')])
    cache = make()
    await cache.start()
    expect(cache.keyFor('ec')?.alg).toBe('ES256')
    expect(cache.keyFor('ed')?.alg).toBe('EdDSA')
    expect(cache.ready).toBe(true)
  })

  it('skips keys it must not use, and reports them', async () => {
    const privateMember = { ...(await publicJwk('private')), d: 'AAAA' }
    endpoint.serve([
      await publicJwk('good'),
      privateMember,
      { ...(await publicJwk('enc')), use: 'enc' },
      await publicJwk('rsa-1024', 'rsa1024'),
      { ...(await publicJwk('hs')), alg: 'HS256' },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'oct' },
      await publicJwk(''),
    ])
    cache = make()
    await cache.start()
    expect(['good', 'private', 'enc', 'rsa-1024', 'hs', 'oct'].filter((kid) => cache.keyFor(kid))).toEqual(['good'])
    expect(errors.map((e) => e.message).join()).toMatch(/private: not a public key.*enc: use is not sig.*rsa-1024: does not fit RS256.*hs: algorithm "HS256" is not allowed/)
  })

  it.each([
    ['an empty key set', (e: JwksEndpoint) => {
      e.serve([])
    }],
    ['a body that is not JSON', (e: JwksEndpoint) => (e.handler = (_q, r) => r.end('<html>'))],
    ['a document without keys', (e: JwksEndpoint) => (e.handler = (_q, r) => r.end('{"jwks":[]}'))],
    ['a 500', (e: JwksEndpoint) => (e.handler = (_q, r) => r.writeHead(500).end())],
  ])('fails to start on %s', async (_name, breakIt) => {
    breakIt(endpoint)
    cache = make()
    await expect(cache.start()).rejects.toThrow()
    expect(cache.ready).toBe(false)
  })

  it('keeps the last good keys through an outage for maxStaleMs, then fails closed, then recovers by itself', async () => {
    const key = await publicJwk('k1')
    endpoint.serve([key])
    cache = make({ maxStaleMs: 60_000 })
    await cache.start()
    endpoint.handler = (_q, r) => r.writeHead(503).end()
    now += 59_000
    await expect(cache.refresh()).rejects.toThrow(/answered 503/)
    expect(cache.keyFor('k1')).toBeDefined()
    now += 2_000
    expect(cache.keyFor('k1')).toBeUndefined()
    expect(cache.ready).toBe(false)
    endpoint.serve([key])
    await cache.refresh()
    expect(cache.keyFor('k1')).toBeDefined()
  })

  it('gives up on a slow endpoint after timeoutMs and keeps its keys', async () => {
    endpoint.serve([await publicJwk('k1')])
    cache = make({ timeoutMs: 200 })
    await cache.start()
    endpoint.handler = (_q, r) => setTimeout(() => r.end('{"keys":[]}'), 2_000)
    const started = Date.now()
    await expect(cache.refresh()).rejects.toThrow()
    expect(Date.now() - started).toBeLessThan(1_500)
    expect(cache.keyFor('k1')).toBeDefined()
  })

  it('finds a newly published key with one refetch', async () => {
    const first = await publicJwk('k1')
    endpoint.serve([first])
    cache = make()
    await cache.start()
    endpoint.serve([first, await publicJwk('k2')])
    expect(await cache.getKey('k2')).toBeDefined()
    expect(endpoint.hits).toBe(2)
  })

  it('answers a flood of random kids with one fetch per cooldown', async () => {
    endpoint.serve([await publicJwk('k1')])
    cache = make({ unknownKidCooldownMs: 30_000 })
    await cache.start()
    const flood = () => Promise.all(Array.from({ length: 1000 }, (_, i) => cache.getKey(`random-${Math.random()}-${i}`)))
    expect((await flood()).every((key) => key === undefined)).toBe(true)
    expect(endpoint.hits).toBe(2)
    now += 10_000
    await flood()
    expect(endpoint.hits).toBe(2)
    now += 20_001
    await flood()
    expect(endpoint.hits).toBe(3)
  })

  it.each([
    ['a string URL', { jwksUri: 'http://127.0.0.1/jwks' }],
    ['a file URL', { jwksUri: new URL('file:///etc/passwd') }],
    ['a negative refresh interval', { refreshIntervalMs: -1 }],
    ['an unknown algorithm', { algorithms: ['HS256'] }],
  ])('refuses %s when created', (_name, bad) => {
    cache = make()
    expect(() => make(bad as never)).toThrow(TypeError)
  })
})
