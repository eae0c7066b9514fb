import { describe, expect, it } from 'vitest'
import { parseSpiffeId, spiffeId } from './spiffe-id.js'

describe('parseSpiffeId', () => {
  it.each([
    ['spiffe://example.org/ns/shop/sa/orders', 'example.org', '/ns/shop/sa/orders'],
    ['spiffe://example.org', 'example.org', ''],
    ['spiffe://my_domain-1.internal/a.b-c_d', 'my_domain-1.internal', '/a.b-c_d'],
  ])('accepts %s', (uri, trustDomain, path) => {
    expect(parseSpiffeId(uri)).toEqual({ trustDomain, path, uri })
  })

  it.each([
    ['another scheme', 'https://example.org/ns/a'],
    ['an upper-case scheme', 'SPIFFE://example.org/ns/a'],
    ['an upper-case trust domain', 'spiffe://Example.org/ns/a'],
    ['a port', 'spiffe://example.org:443/ns/a'],
    ['userinfo', 'spiffe://user@example.org/ns/a'],
    ['a query', 'spiffe://example.org/ns/a?x=1'],
    ['a fragment', 'spiffe://example.org/ns/a#x'],
    ['percent-encoding', 'spiffe://example.org/ns/%41'],
    ['an empty segment', 'spiffe://example.org/ns//a'],
    ['a trailing slash', 'spiffe://example.org/ns/a/'],
    ['a dot segment', 'spiffe://example.org/ns/./a'],
    ['a dot-dot segment', 'spiffe://example.org/ns/../a'],
    ['an empty trust domain', 'spiffe:///ns/a'],
    ['a wildcard', 'spiffe://*.example.org/ns/a'],
    ['over 2048 characters', `spiffe://example.org/${'a'.repeat(2040)}`],
  ])('refuses %s', (_name, uri) => {
    expect(typeof parseSpiffeId(uri)).toBe('string')
    expect(() => spiffeId(uri)).toThrow(/is not a SPIFFE ID/)
  })
})
