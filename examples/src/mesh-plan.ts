import type { SecurityTier } from '@meshguard/service-kit/tls'

/** RFC 8693 §2.1's grant type, as clients are registered for it. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'

/** A request that shows what a service does, as the demo prints it and a test sends it. */
export interface ExampleRequest {
  method: 'GET' | 'POST'
  /** Through the gateway: the service's route prefix, then its own path. */
  path: string
  /** The same request at the service itself. */
  internalPath: string
  body?: Readonly<Record<string, unknown>> | undefined
}

/** The client a service is registered as, for its own calls and its call reports. */
export interface ServiceClientPlan {
  /** What its own and exchanged tokens may carry: the scopes of the peers it calls. */
  scopes: readonly string[]
  /** Empty for a service that calls nobody: its client only authenticates its call reports. */
  grantTypes: readonly string[]
  /** RFC 8693 §4.4: the only client that may exchange this client's own tokens. */
  mayAct?: string | undefined
}

/** One HTTP service of the demo mesh, as data: what the supervisor registers, starts and routes. */
export interface HttpServicePlan {
  name: string
  kind: 'http'
  /** The scopes it defines as a resource server; its operations require them. */
  scopes: readonly string[]
  /** The gateway's route prefix for it, e.g. `/a`. */
  route: string
  /** The services it calls, by name. */
  peers: readonly string[]
  /**
   * How it passes its caller on: seed 004's two tokens (the caller's in `Authorization`, its own in
   * `X-Scope-Token`) or RFC 8693 delegation (the caller's token exchanged, the service added to
   * `act`). Undefined for a service that calls nobody.
   */
  delegation: 'scope-token' | 'token-exchange' | undefined
  /**
   * The services whose callers' tokens reach it forwarded in `Authorization` (seed 004): the
   * audiences those tokens are addressed to. It takes only their identity; the scopes come from
   * the `X-Scope-Token` of the service that called it.
   */
  forwardedIdentityFrom: readonly string[]
  client: ServiceClientPlan
  example: ExampleRequest
}

/** Every kind of service the mesh runs; the gRPC services join this union. */
export type ServicePlan = HttpServicePlan

/** A client outside the mesh that calls it through the gateway: the demo's stand-in for a user's application. */
export interface CallerPlan {
  id: string
  scopes: readonly string[]
  mayAct?: string | undefined
  description: string
}

/**
 * Seed 004's APIs A-D: A calls B and C, B calls D, each forwarding the caller's token and adding
 * its own client-credentials token for the next hop's scopes. `a.w` exists so that a caller can
 * hold a token addressed to A that lacks `a.r`.
 */
const seed004: readonly HttpServicePlan[] = [
  {
    name: 'api-a',
    kind: 'http',
    scopes: ['a.r', 'a.w'],
    route: '/a',
    peers: ['api-b', 'api-c'],
    delegation: 'scope-token',
    forwardedIdentityFrom: [],
    client: { scopes: ['b.r', 'c.r'], grantTypes: ['client_credentials'] },
    example: { method: 'GET', path: '/a/summary', internalPath: '/summary' },
  },
  {
    name: 'api-b',
    kind: 'http',
    scopes: ['b.r'],
    route: '/b',
    peers: ['api-d'],
    delegation: 'scope-token',
    forwardedIdentityFrom: ['api-a'],
    client: { scopes: ['d.r'], grantTypes: ['client_credentials'] },
    example: { method: 'GET', path: '/b/inventory', internalPath: '/inventory' },
  },
  {
    name: 'api-c',
    kind: 'http',
    scopes: ['c.r'],
    route: '/c',
    peers: [],
    delegation: undefined,
    forwardedIdentityFrom: ['api-a'],
    client: { scopes: [], grantTypes: [] },
    example: { method: 'GET', path: '/c/prices', internalPath: '/prices' },
  },
  {
    name: 'api-d',
    kind: 'http',
    scopes: ['d.r'],
    route: '/d',
    peers: [],
    delegation: undefined,
    // The caller's token travels A → B → D unchanged: it is addressed to A.
    forwardedIdentityFrom: ['api-a'],
    client: { scopes: [], grantTypes: [] },
    example: { method: 'GET', path: '/d/stock', internalPath: '/stock' },
  },
]

/**
 * Token chaining: each hop exchanges the token it received (RFC 8693), so payment-service can
 * check the whole path (`x-meshguard-chain`). Scope only narrows along the chain (decision 0004),
 * so the shopper's token carries `order.w` and `payment.w` for the hops after the cart, and
 * cart-service exchanges it for both order-service and payment-service. cart-service also calls
 * payment-service directly on `POST /carts/{cartId}/pay-directly`: the demo's shortcut, which
 * payment-service refuses by the chain (`ERR_CHAIN_REFUSED`), whatever the transport lets through.
 */
const chain: readonly HttpServicePlan[] = [
  {
    name: 'cart-service',
    kind: 'http',
    scopes: ['cart.w'],
    route: '/cart',
    peers: ['order-service', 'payment-service'],
    delegation: 'token-exchange',
    forwardedIdentityFrom: [],
    client: { scopes: ['order.w', 'payment.w'], grantTypes: [TOKEN_EXCHANGE_GRANT] },
    example: { method: 'POST', path: '/cart/carts/c-1001/checkout', internalPath: '/carts/c-1001/checkout', body: { paymentMethod: 'card' } },
  },
  {
    name: 'order-service',
    kind: 'http',
    scopes: ['order.w'],
    route: '/order',
    peers: ['payment-service'],
    delegation: 'token-exchange',
    forwardedIdentityFrom: [],
    client: { scopes: ['payment.w'], grantTypes: [TOKEN_EXCHANGE_GRANT] },
    example: {
      method: 'POST',
      path: '/order/orders',
      internalPath: '/orders',
      body: { cartId: 'c-1001', items: [{ sku: 'tea-earl-grey', quantity: 2, unitPriceCents: 650 }], paymentMethod: 'card' },
    },
  },
  {
    name: 'payment-service',
    kind: 'http',
    scopes: ['payment.w'],
    route: '/payment',
    peers: [],
    delegation: undefined,
    forwardedIdentityFrom: [],
    client: { scopes: [], grantTypes: [] },
    example: { method: 'POST', path: '/payment/payments', internalPath: '/payments', body: { orderId: 'o-1', amountCents: 1300, method: 'card' } },
  },
]

/** The demo's HTTP services. */
export const httpServices: readonly HttpServicePlan[] = [...seed004, ...chain]

/** Every service of the demo mesh. */
export const meshPlan: readonly ServicePlan[] = [...httpServices]

/**
 * The clients the demo hands to people trying it, each calling through the gateway. The shopper's
 * tokens may be exchanged by cart-service alone (`may_act`, RFC 8693 §4.4).
 */
export const demoCallers: readonly CallerPlan[] = [
  { id: 'demo-reader', scopes: ['a.r'], description: "seed 004's client: reads api-a's summary, which api-a builds from api-b, api-c and api-d" },
  { id: 'demo-shopper', scopes: ['cart.w', 'order.w', 'payment.w'], mayAct: 'cart-service', description: 'checks a cart out: cart-service, then order-service, then payment-service' },
]

/**
 * The plan of the service called `name`.
 *
 * @throws Error when the mesh has no such service.
 */
export function servicePlan(name: string): ServicePlan {
  const plan = meshPlan.find((service) => service.name === name)
  if (plan === undefined) throw new Error(`the demo mesh has no service "${name}" (it has ${meshPlan.map((service) => service.name).join(', ')})`)
  return plan
}

/** The services that call `name`, by name. */
export function callersOf(name: string, plans: readonly ServicePlan[] = meshPlan): string[] {
  return plans.filter((service) => service.peers.includes(name)).map((service) => service.name)
}

/**
 * The SPIFFE ID the demo gives a service's workload certificate.
 *
 * @example
 * serviceSpiffeId('example.org', 'api-a') // 'spiffe://example.org/ns/demo/sa/api-a'
 */
export function serviceSpiffeId(trustDomain: string, name: string): string {
  return `spiffe://${trustDomain}/ns/demo/sa/${name}`
}

/**
 * The plans in an order in which each service starts after the peers it calls, so that their
 * addresses are known when it starts.
 *
 * @throws Error when a service calls one the plans lack, or the calls go round in a circle.
 */
export function inStartOrder<Plan extends ServicePlan>(plans: readonly Plan[]): Plan[] {
  const byName = new Map(plans.map((plan) => [plan.name, plan]))
  const ordered: Plan[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (plan: Plan, path: readonly string[]) => {
    if (state.get(plan.name) === 'done') return
    if (state.get(plan.name) === 'visiting') throw new Error(`the services call each other in a circle: ${[...path, plan.name].join(' → ')}`)
    state.set(plan.name, 'visiting')
    for (const peer of plan.peers) {
      const next = byName.get(peer)
      if (next === undefined) throw new Error(`service "${plan.name}" calls "${peer}", which is not in the plan`)
      visit(next, [...path, plan.name])
    }
    state.set(plan.name, 'done')
    ordered.push(plan)
  }
  for (const plan of plans) visit(plan, [])
  return ordered
}

/** A resource server as the authorization server registers it (`registerResourceServer`). */
export interface ResourceServerRegistration {
  id: string
  scopes: readonly string[]
}

/** A client as the authorization server registers it (`registerClient`'s `ClientInput`). */
export interface ClientRegistration {
  id: string
  type: 'service'
  scopes: readonly string[]
  grantTypes: readonly string[]
  mayAct?: string | undefined
  /** On the high tier, a service's client authenticates with its certificate (RFC 8705 `tls_client_auth`) and gets no secret. */
  tlsClientAuthSanUri?: string | undefined
}

export interface MeshRegistrations {
  resourceServers: ResourceServerRegistration[]
  /** One per service, named like it; it calls its peers and reports its calls as this client. */
  serviceClients: ClientRegistration[]
  /** The demo's callers ({@link demoCallers}); always with a secret: they are outside the mesh. */
  callerClients: ClientRegistration[]
}

export interface RegistrationOptions {
  tier: SecurityTier
  /** Required on the high tier, where each service's client is bound to its SPIFFE ID. */
  trustDomain?: string | undefined
  /** Default {@link serviceSpiffeId}. */
  spiffeIdOf?: ((trustDomain: string, name: string) => string) | undefined
}

/**
 * Everything the authorization server must know for the mesh to run: one resource server per
 * service, one client per service (`tls_client_auth` on the high tier), and the demo's callers.
 * The supervisor and the tests register exactly this.
 *
 * @throws TypeError on the high tier without a trust domain.
 * @example
 * const { resourceServers, serviceClients, callerClients } = meshRegistrations({ tier: 'high', trustDomain: 'example.org' })
 * for (const resource of resourceServers) await registerResourceServer(store, resource, now)
 * for (const client of [...serviceClients, ...callerClients]) secrets.set(client.id, (await registerClient(store, client, now)).secret)
 */
export function meshRegistrations(options: RegistrationOptions, plans: readonly ServicePlan[] = meshPlan, callers: readonly CallerPlan[] = demoCallers): MeshRegistrations {
  const { tier, trustDomain, spiffeIdOf = serviceSpiffeId } = options
  if (tier === 'high' && (trustDomain === undefined || trustDomain === '')) {
    throw new TypeError("the high tier binds each service's client to its SPIFFE ID: give the trust domain")
  }
  return {
    resourceServers: plans.map((plan) => ({ id: plan.name, scopes: [...plan.scopes] })),
    serviceClients: plans.map((plan) => ({
      id: plan.name,
      type: 'service',
      scopes: [...plan.client.scopes],
      grantTypes: [...plan.client.grantTypes],
      ...(plan.client.mayAct !== undefined && { mayAct: plan.client.mayAct }),
      ...(tier === 'high' && { tlsClientAuthSanUri: spiffeIdOf(trustDomain!, plan.name) }),
    })),
    callerClients: callers.map((caller) => ({
      id: caller.id,
      type: 'service',
      scopes: [...caller.scopes],
      grantTypes: ['client_credentials'],
      ...(caller.mayAct !== undefined && { mayAct: caller.mayAct }),
    })),
  }
}
