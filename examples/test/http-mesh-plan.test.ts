import { describe, expect, it } from 'vitest'
import { OpenApiRoutes } from '@meshguard/service-kit'
import { httpServiceDefinitions } from '../src/http/services.js'
import { callersOf, demoCallers, httpServices, inStartOrder, meshRegistrations, TOKEN_EXCHANGE_GRANT, type HttpServicePlan } from '../src/mesh-plan.js'

const planOf = (name: string) => httpServices.find((plan) => plan.name === name)!

describe('the mesh plan', () => {
  it.each(httpServices.map((plan) => [plan.name, plan] as const))('describes %s consistently with its service', (name, plan) => {
    const definition = httpServiceDefinitions[name]!
    expect(definition.name).toBe(name)
    // The example request is an operation of the service's own document, reached through its route.
    expect(plan.example.path).toBe(`${plan.route}${plan.example.internalPath}`)
    const operation = new OpenApiRoutes(definition.openApi).match(plan.example.method, plan.example.internalPath)
    expect(operation.public).toBe(false)
    // Its operations need only the scopes its resource server defines.
    expect(operation.alternatives.flat().every((scope) => plan.scopes.includes(scope))).toBe(true)
    // Its client may hold only what its peers define, and has a grant exactly when it calls someone.
    const peerScopes = plan.peers.flatMap((peer) => planOf(peer).scopes)
    expect(plan.client.scopes.every((scope) => peerScopes.includes(scope))).toBe(true)
    expect(plan.client.grantTypes).toEqual(
      plan.delegation === undefined ? [] : plan.delegation === 'scope-token' ? ['client_credentials'] : [TOKEN_EXCHANGE_GRANT],
    )
  })

  it('accepts forwarded identities only from services whose callers reach it through X-Scope-Token hops', () => {
    const reaches = (from: HttpServicePlan, to: string): boolean =>
      from.delegation === 'scope-token' && from.peers.some((peer) => peer === to || reaches(planOf(peer), to))
    for (const plan of httpServices) {
      for (const origin of plan.forwardedIdentityFrom) expect(reaches(planOf(origin), plan.name), `${origin} → ${plan.name}`).toBe(true)
    }
    expect(Object.fromEntries(httpServices.map((plan) => [plan.name, plan.forwardedIdentityFrom]))).toEqual({
      'api-a': [],
      'api-b': ['api-a'],
      'api-c': ['api-a'],
      'api-d': ['api-a'],
      'cart-service': [],
      'order-service': [],
      'payment-service': [],
    })
  })

  it('starts every service after the peers it calls', () => {
    const order = inStartOrder(httpServices).map((plan) => plan.name)
    expect(new Set(order)).toEqual(new Set(httpServices.map((plan) => plan.name)))
    for (const plan of httpServices) for (const peer of plan.peers) expect(order.indexOf(peer)).toBeLessThan(order.indexOf(plan.name))
  })

  it('refuses a plan whose services call each other in a circle', () => {
    const circle = [
      { ...planOf('api-c'), peers: ['api-d'] },
      { ...planOf('api-d'), peers: ['api-c'] },
    ]
    expect(() => inStartOrder(circle)).toThrow('the services call each other in a circle: api-c → api-d → api-c')
  })

  it('names who calls each service', () => {
    expect(callersOf('api-b')).toEqual(['api-a'])
    expect(callersOf('payment-service')).toEqual(['cart-service', 'order-service'])
    expect(callersOf('api-a')).toEqual([])
  })
})

describe('meshRegistrations', () => {
  it('registers a resource server and a client per service, and the demo callers', () => {
    const { resourceServers, serviceClients, callerClients } = meshRegistrations({ tier: 'low' })
    expect(resourceServers.map((resource) => resource.id)).toEqual(httpServices.map((plan) => plan.name))
    expect(serviceClients.find((client) => client.id === 'cart-service')).toEqual({
      id: 'cart-service',
      type: 'service',
      scopes: ['order.w', 'payment.w'],
      grantTypes: [TOKEN_EXCHANGE_GRANT],
    })
    expect(callerClients).toEqual(demoCallers.map((caller) => expect.objectContaining({ id: caller.id, scopes: caller.scopes, grantTypes: ['client_credentials'] }) as unknown))
    // RFC 8693 §4.4: only cart-service may act for the shopper.
    expect(callerClients.find((client) => client.id === 'demo-shopper')?.mayAct).toBe('cart-service')
    expect(serviceClients.every((client) => client.tlsClientAuthSanUri === undefined)).toBe(true)
  })

  it("binds each service's client to its SPIFFE ID on the high tier, and the callers to nothing", () => {
    const { serviceClients, callerClients } = meshRegistrations({ tier: 'high', trustDomain: 'example.org' })
    expect(serviceClients.map((client) => client.tlsClientAuthSanUri)).toEqual(httpServices.map((plan) => `spiffe://example.org/ns/demo/sa/${plan.name}`))
    expect(callerClients.every((client) => client.tlsClientAuthSanUri === undefined)).toBe(true)
  })

  it('needs the trust domain on the high tier', () => {
    expect(() => meshRegistrations({ tier: 'high' })).toThrow(new TypeError("the high tier binds each service's client to its SPIFFE ID: give the trust domain"))
  })
})
