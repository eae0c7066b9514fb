import { Pool } from 'undici'
import { describe, expect, it } from 'vitest'
import { Upstream } from './upstream.js'
import { UpstreamInstance } from './upstream-instance.js'

describe('Upstream', () => {
  const make = (failures = 2) => {
    let now = 0
    const instances = ['a', 'b', 'c'].map((name) => new UpstreamInstance(name, name, '', new Pool('http://127.0.0.1:9')))
    const upstream = new Upstream('u', instances, { failures, cooldownMs: 1000 }, () => now)
    return { upstream, instances, advance: (ms: number) => (now += ms) }
  }
  const names = (upstream: Upstream, n: number) => Array.from({ length: n }, () => upstream.pick().key).join('')

  it('takes instances in turn', () => {
    expect(names(make().upstream, 7)).toBe('abcabca')
  })

  it('skips an instance after `failures` consecutive failures, for the cooldown', () => {
    const { upstream, instances, advance } = make()
    upstream.failed(instances[1]!)
    expect(names(upstream, 3)).toBe('abc')
    upstream.failed(instances[1]!)
    expect(names(upstream, 4)).toBe('acac')
    advance(1000)
    expect(names(upstream, 3)).toBe('abc')
  })

  it('clears the record of an instance that answers', () => {
    const { upstream, instances } = make(2)
    upstream.failed(instances[0]!)
    upstream.answered(instances[0]!)
    upstream.failed(instances[0]!)
    expect(names(upstream, 3)).toBe('abc')
  })

  it('tries the instance whose cooldown ends first when all are cooling down', () => {
    const { upstream, instances, advance } = make(1)
    upstream.failed(instances[2]!)
    advance(10)
    upstream.failed(instances[0]!)
    upstream.failed(instances[1]!)
    expect(upstream.pick().key).toBe('c')
  })

  it('picks an instance not tried yet for a retry', () => {
    const { upstream, instances } = make()
    expect(upstream.pick([instances[0]!, instances[1]!]).key).toBe('c')
    expect(upstream.pick(instances).key).toBeDefined()
  })
})
