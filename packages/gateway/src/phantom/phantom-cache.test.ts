import { describe, expect, it } from 'vitest'
import { PhantomCache } from './phantom-cache.js'

describe('PhantomCache', () => {
  const entry = (jti: string, expiresAt: number) => ({ jwt: `jwt-${jti}`, jti, expiresAt })

  it('keeps an exchange until its JWT expires, not a millisecond longer', () => {
    let now = 1_000_000
    const cache = new PhantomCache(10, () => now)
    cache.set('a', entry('j1', now + 5000))
    expect(cache.get('a')?.jwt).toBe('jwt-j1')
    now += 4999
    expect(cache.get('a')?.jwt).toBe('jwt-j1')
    now += 1
    expect(cache.get('a')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('does not keep an exchange whose JWT has already expired', () => {
    const cache = new PhantomCache(10, () => 5000)
    cache.set('a', entry('j1', 5000))
    expect(cache.size).toBe(0)
  })

  it('forgets a token as soon as its jti is revoked', () => {
    const cache = new PhantomCache(10, () => 0)
    cache.set('a', entry('j1', 10_000))
    cache.set('b', entry('j2', 10_000))
    cache.evict('j1')
    cache.evict('unknown')
    expect(cache.get('a')).toBeUndefined()
    expect(cache.get('b')?.jti).toBe('j2')
  })

  it('holds at most maxEntries, the oldest going first, and takes a new bound', () => {
    const cache = new PhantomCache(3, () => 0)
    for (const id of ['a', 'b', 'c', 'd']) cache.set(id, entry(`j-${id}`, 10_000))
    expect(cache.size).toBe(3)
    expect(cache.get('a')).toBeUndefined()
    cache.evict('j-a')
    expect(cache.get('b')?.jti).toBe('j-b')
    cache.maxEntries = 1
    cache.set('e', entry('j-e', 10_000))
    expect(cache.size).toBe(1)
    expect(cache.get('e')?.jti).toBe('j-e')
  })

  it('replaces an entry under the same id, its old jti no longer evicting it', () => {
    const cache = new PhantomCache(10, () => 0)
    cache.set('a', entry('old', 10_000))
    cache.set('a', entry('new', 10_000))
    cache.evict('old')
    expect(cache.get('a')?.jti).toBe('new')
  })
})
