import { describe, expect, it } from 'vitest'
import { decideScopes, OpenApiRoutes, VerificationError, httpRefusal, type OpenApiDocument, type VerificationErrorCode } from '../src/index.js'

const spec: OpenApiDocument = {
  openapi: '3.0.3',
  security: [{ oauth2: ['orders.read'] }],
  paths: {
    '/orders': {
      get: { operationId: 'listOrders' },
      post: { operationId: 'createOrder', security: [{ oauth2: ['orders.write'] }] },
    },
    '/orders/{id}': {
      get: { operationId: 'getOrder' },
      delete: { operationId: 'deleteOrder', security: [{ oauth2: ['orders.admin'] }, { oauth2: ['orders.write', 'orders.owner'] }] },
    },
    '/orders/export': { get: { operationId: 'exportOrders', security: [{ oauth2: ['orders.export'] }] } },
    '/admin/reset': { post: { operationId: 'reset', security: [{ oauth2: ['admin'] }] } },
    '/health': { get: { operationId: 'health', security: [] } },
    '/docs': { get: { operationId: 'docs', 'x-meshguard-public': true } },
  },
}

describe('OpenApiRoutes', () => {
  const routes = new OpenApiRoutes(spec)

  it.each([
    ['GET', '/orders', 'listOrders', [['orders.read']]],
    ['POST', '/orders', 'createOrder', [['orders.write']]],
    ['GET', '/orders/42', 'getOrder', [['orders.read']]],
    ['GET', '/orders/a%20b', 'getOrder', [['orders.read']]],
    ['DELETE', '/orders/42', 'deleteOrder', [['orders.admin'], ['orders.write', 'orders.owner']]],
    ['GET', '/orders/export', 'exportOrders', [['orders.export']]],
    ['get', '/orders', 'listOrders', [['orders.read']]],
  ])('%s %s is %s, needing %j', (method, path, operationId, alternatives) => {
    expect(routes.match(method, path)).toMatchObject({ operationId, public: false, alternatives })
  })

  it('is public only where the operation itself says so', () => {
    expect(routes.match('GET', '/health')).toMatchObject({ public: true, alternatives: [] })
    expect(routes.match('GET', '/docs')).toMatchObject({ public: true })
    const openByDefault = new OpenApiRoutes({ openapi: '3.1.0', security: [], paths: { '/x': { get: {} } } })
    expect(openByDefault.match('GET', '/x')).toMatchObject({ public: false, alternatives: [[]] })
  })

  const refusals: Array<[string, string, string, VerificationErrorCode]> = [
    ['encoded dot-dot', 'GET', '/orders/%2e%2e/admin/reset', 'ERR_PATH_INVALID'],
    ['encoded dot-dot in capitals', 'GET', '/orders/%2E%2E/admin/reset', 'ERR_PATH_INVALID'],
    ['dot-dot', 'POST', '/orders/../admin/reset', 'ERR_PATH_INVALID'],
    ['dot segment', 'GET', '/./orders', 'ERR_PATH_INVALID'],
    ['double slash', 'POST', '//admin/reset', 'ERR_PATH_INVALID'],
    ['double slash inside', 'GET', '/orders//42', 'ERR_PATH_INVALID'],
    ['matrix parameter', 'GET', '/orders;jsessionid=1', 'ERR_PATH_INVALID'],
    ['Tomcat ..;/', 'POST', '/orders/..;/admin/reset', 'ERR_PATH_INVALID'],
    ['encoded slash', 'GET', '/orders%2Fexport', 'ERR_PATH_INVALID'],
    ['backslash', 'POST', '/orders\\..\\admin\\reset', 'ERR_PATH_INVALID'],
    ['encoded backslash', 'POST', '/orders%5c..%5cadmin', 'ERR_PATH_INVALID'],
    ['encoded NUL', 'GET', '/orders%00', 'ERR_PATH_INVALID'],
    ['control character', 'GET', '/orders\r\nX: y', 'ERR_PATH_INVALID'],
    ['broken percent-encoding', 'GET', '/orders/%E0%A4%A', 'ERR_PATH_INVALID'],
    ['no leading slash', 'GET', 'orders', 'ERR_PATH_INVALID'],
    ['trailing slash not in the document', 'GET', '/orders/', 'ERR_ROUTE_UNKNOWN'],
    ['other case', 'POST', '/ADMIN/RESET', 'ERR_ROUTE_UNKNOWN'],
    ['other case of a segment', 'GET', '/Orders', 'ERR_ROUTE_UNKNOWN'],
    ['method the document does not list', 'PUT', '/orders/42', 'ERR_ROUTE_UNKNOWN'],
    ['HEAD where only GET is listed', 'HEAD', '/orders', 'ERR_ROUTE_UNKNOWN'],
    ['route not in the document', 'GET', '/internal/debug', 'ERR_ROUTE_UNKNOWN'],
    ['extra segment', 'GET', '/orders/42/items', 'ERR_ROUTE_UNKNOWN'],
  ]

  it.each(refusals)('refuses %s (%s %s) with %s', (_name, method, path, code) => {
    const error = (() => {
      try {
        routes.match(method, path)
      } catch (err) {
        return err
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(VerificationError)
    expect((error as VerificationError).code).toBe(code)
    expect(httpRefusal(error as VerificationError).status).toBe(code === 'ERR_PATH_INVALID' ? 400 : 404)
  })

  it.each([
    ['not OpenAPI 3', { swagger: '2.0', paths: {} }],
    ['no paths', { openapi: '3.0.0' }],
    ['a path without a leading slash', { openapi: '3.0.0', paths: { orders: { get: {} } } }],
    ['security that is not a list of requirements', { openapi: '3.0.0', paths: { '/a': { get: { security: { oauth2: ['x'] } } } } }],
  ])('refuses a document with %s when loaded', (_name, document) => {
    expect(() => new OpenApiRoutes(document as unknown as OpenApiDocument)).toThrow(TypeError)
  })
})

describe('decideScopes (X-Scope-Token)', () => {
  const token = (...scopes: string[]) => ({ scopes: new Set(scopes) })
  const needs = [['orders.write', 'orders.owner'], ['orders.admin']]

  it.each([
    ['the scope token has them', token('b.read'), token('orders.admin'), 'scope-token'],
    ['the scope token lacks them but the caller has them', token('orders.write', 'orders.owner'), token('b.read'), 'caller'],
    ['no scope token, the caller has them', token('orders.admin'), undefined, 'caller'],
    ['one alternative held across both tokens does not count', token('orders.write'), token('orders.owner'), undefined],
    ['neither has them', token('orders.read'), token('b.read'), undefined],
  ] as const)('%s', (_name, caller, scopeToken, grantedBy) => {
    if (grantedBy === undefined) {
      expect(() => decideScopes(needs, caller, scopeToken)).toThrow(expect.objectContaining({ code: 'ERR_INSUFFICIENT_SCOPE' }))
    } else {
      expect(decideScopes(needs, caller, scopeToken)).toBe(grantedBy)
    }
  })

  it('answers insufficient scope as 403 with the scope needed in the challenge', () => {
    try {
      decideScopes([['orders.write']], token('orders.read'))
    } catch (err) {
      const refusal = httpRefusal(err as VerificationError, { scope: ['orders.write'] })
      expect(refusal.status).toBe(403)
      expect(refusal.wwwAuthenticate).toBe('Bearer realm="meshguard", error="insufficient_scope", error_description="the operation needs scope orders.write", scope="orders.write"')
    }
    expect.assertions(2)
  })
})
