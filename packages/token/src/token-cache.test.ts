import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { VerificationKey } from './access-token.js'
import { TokenCache } from './token-cache.js'

const key = (): VerificationKey => ({ alg: 'ES256', publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey })

describe('TokenCache', () => {
  const k1 = key()
  const published = new Map([['k1', k1]])
  const current = (kid: string) => published.get(kid)
  const entry = (jti: string, verifiedBy = k1) => ({ jti, kid: 'k1', key: verifiedBy })

  it('hits only while the very key object that verified the token is published under its kid', () => {
    const cache = new TokenCache<string>(10)
    cache.set('t1', 'claims-1', entry('j1'))
    expect(cache.get('t1', current)).toBe('claims-1')
    expect(cache.get('t1', (kid) => (kid === 'k1' ? key() : undefined))).toBeUndefined()
    expect(cache.size).toBe(0)
    cache.set('t2', 'claims-2', entry('j2'))
    expect(cache.get('t2', () => undefined)).toBeUndefined()
  })

  it('evicts the least recently used entry when full', () => {
    const cache = new TokenCache<string>(2)
    cache.set('a', 'A', entry('ja'))
    cache.set('b', 'B', entry('jb'))
    expect(cache.get('a', current)).toBe('A')
    cache.set('c', 'C', entry('jc'))
    expect([cache.get('a', current), cache.get('b', current), cache.get('c', current)]).toEqual(['A', undefined, 'C'])
  })

  it('evicts the oldest entry when every entry has been read since', () => {
    const cache = new TokenCache<string>(2)
    cache.set('a', 'A', entry('ja'))
    cache.set('b', 'B', entry('jb'))
    cache.get('a', current)
    cache.get('b', current)
    cache.set('c', 'C', entry('jc'))
    expect(cache.size).toBe(2)
    expect([cache.get('a', current), cache.get('b', current), cache.get('c', current)]).toEqual([undefined, 'B', 'C'])
    // The evicted token's jti no longer points anywhere; the others still evict by jti.
    cache.evict('jb')
    expect(cache.get('b', current)).toBeUndefined()
  })

  it('evicts by jti, for revocation', () => {
    const cache = new TokenCache<string>(10)
    cache.set('a', 'A', entry('ja'))
    cache.evict('ja')
    cache.evict('unknown')
    expect(cache.get('a', current)).toBeUndefined()
  })

  it('keeps nothing with a size of 0', () => {
    const cache = new TokenCache<string>(0)
    cache.set('a', 'A', entry('ja'))
    expect(cache.get('a', current)).toBeUndefined()
  })
})
