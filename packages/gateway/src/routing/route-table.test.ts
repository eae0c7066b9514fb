import { describe, expect, it } from 'vitest'
import type { CompiledRoute } from './compiled-route.js'
import { checkPath, hostName } from './check-path.js'
import { RouteTable } from './route-table.js'

const route = (name: string, pathPrefix: string, host?: string) => ({ name, pathPrefix, host }) as CompiledRoute

describe('RouteTable', () => {
  const table = new RouteTable([route('root', '/'), route('api', '/api'), route('orders', '/api/orders'), route('shop', '/api', 'shop.example')])

  it.each([
    [undefined, '/api/orders/1', 'orders'],
    [undefined, '/api/orders', 'orders'],
    [undefined, '/api/ordersx', 'api'],
    [undefined, '/api', 'api'],
    [undefined, '/apix', 'root'],
    [undefined, '/', 'root'],
    ['shop.example', '/api/orders', 'shop'],
    ['shop.example', '/other', 'root'],
    ['other.example', '/api/orders', 'orders'],
  ])('routes host %s, path %s to %s', (host, path, name) => {
    expect(table.match(host, path)?.name).toBe(name)
  })

  it('matches nothing without a catch-all', () => {
    expect(new RouteTable([route('api', '/api')]).match(undefined, '/')).toBeUndefined()
  })
})

describe('checkPath', () => {
  it.each(['/', '/a/b', '/a.b/c..d/.e', '/a%20b', '/a/%2e%2ex'])('accepts %s', (path) => {
    expect(() => {
      checkPath(path)
    }).not.toThrow()
  })

  it.each(['*', 'http://a/b', '/a/../b', '/a/./b', '/..', '/a/%2E%2e/b', '/a%2f..%2fb', '/a\\..\\b', '/a/%2e'])('refuses %s', (path) => {
    expect(() => {
      checkPath(path)
    }).toThrow(expect.objectContaining({ code: 'ERR_TARGET_INVALID' }) as Error)
  })
})

describe('hostName', () => {
  it.each([
    ['Shop.Example:8443', 'shop.example'],
    ['shop.example', 'shop.example'],
    ['[::1]:8080', '[::1]'],
    ['', undefined],
    [undefined, undefined],
  ])('reads %s as %s', (authority, host) => {
    expect(hostName(authority)).toBe(host)
  })
})
