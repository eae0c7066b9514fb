import { callersOf, grpcPlan, httpServices, inStartOrder, type HttpServicePlan, type ServiceRuntimeConfig } from '@meshguard/examples'
import type { MeshLayout } from './mesh-layout.js'

/** A service of the mesh with its listener and the configuration its process reads. */
export interface PlannedService {
  name: string
  kind: 'http' | 'grpc'
  plan: HttpServicePlan | undefined
  config: ServiceRuntimeConfig
  /** Where it is reached: a base URL, or `host:port` for gRPC. */
  address: string
}

const AUTH_SERVER = 'auth-server'
export const GATEWAY = 'gateway'
/** The workload identity `demo.json` hands scripts for calling the gRPC services. */
export const DEMO_CALLER = 'demo-caller'

/** Every workload that gets a certificate. */
export function workloadNames(): string[] {
  return [AUTH_SERVER, GATEWAY, DEMO_CALLER, ...httpServices.map((plan) => plan.name), grpcPlan.name]
}

/**
 * The configuration of every service for the tier: its port from the layout, the token endpoint
 * (the mutual-TLS listener on the high tier, where services authenticate with their
 * certificates), its peers' addresses, and who may connect to it.
 */
export function plannedServices(layout: MeshLayout, secrets: Readonly<Record<string, string>>): PlannedService[] {
  const { tier } = layout
  const scheme = tier === 'low' ? 'http' : 'https'
  const ports = new Map(httpServices.map((plan, index) => [plan.name, layout.httpServicePort(index)]))
  const urlOf = (name: string) => `${scheme}://127.0.0.1:${ports.get(name)!}`
  const authBase = tier === 'high' ? layout.mtlsOrigin : layout.issuer
  const common = (name: string): ServiceRuntimeConfig => ({
    name,
    tier,
    host: '127.0.0.1',
    port: 0,
    issuer: layout.issuer,
    jwksUri: `${layout.issuer}/.well-known/jwks.json`,
    revocationEventsUri: `${layout.issuer}/oauth2/revocations/events`,
    tokenEndpoint: `${authBase}/oauth2/token`,
    auditUri: `${authBase}/audit/events`,
    ...(tier !== 'high' && { clientSecret: secrets[name] }),
    ...(tier !== 'low' && {
      tls: { certFile: layout.workload(name).certFile, keyFile: layout.workload(name).keyFile, caFile: layout.caBundle },
      spiffeId: layout.workload(name).spiffeId,
    }),
    ...(tier === 'high' && { authServerSpiffeId: layout.workload(AUTH_SERVER).spiffeId }),
    peers: {},
  })
  const http = inStartOrder(httpServices).map((plan): PlannedService => ({
    name: plan.name,
    kind: 'http',
    plan,
    address: urlOf(plan.name),
    config: {
      ...common(plan.name),
      port: ports.get(plan.name)!,
      peers: Object.fromEntries(plan.peers.map((peer) => [peer, { url: urlOf(peer), ...(tier !== 'low' && { spiffeId: layout.workload(peer).spiffeId }) }])),
      ...(tier === 'high' && { allowedCallers: [...callersOf(plan.name), GATEWAY].map((name) => layout.workload(name).spiffeId) }),
    },
  }))
  const grpc: PlannedService = {
    name: grpcPlan.name,
    kind: 'grpc',
    plan: undefined,
    address: layout.grpcAddress,
    config: {
      ...common(grpcPlan.name),
      port: Number(layout.grpcAddress.split(':')[1]),
      ...(tier === 'high' && { allowedCallers: [layout.workload(DEMO_CALLER).spiffeId] }),
    },
  }
  return [...http, grpc]
}
