import type { ServiceClientPlan } from '../mesh-plan.js'
import { grpcDemoScopes, grpcDemoServices } from './grpc-demo-policy.js'
import { PROTO_DIR } from './load-demo-protos.js'

/** The gRPC process of the demo mesh, as data: what the supervisor registers, starts and lists in demo.json. */
export interface GrpcServicePlan {
  /** Its resource server id (the `aud` of tokens for it), client id and workload name. */
  readonly name: string
  readonly kind: 'grpc'
  /** The scopes of its resource server: every one some method requires, none other. */
  readonly scopes: readonly string[]
  /** It calls nobody: its client only authenticates its call reports. */
  readonly client: ServiceClientPlan
  /** Where the `.proto` files are, for demo.json and for clients such as grpcurl. */
  readonly protoDir: string
  /** The fully qualified names of the services it hosts. */
  readonly services: readonly string[]
}

/**
 * The demo's gRPC process: `SensorService`, `ArticleService` and `OrderService` behind one
 * resource server, `grpc-demo`. Started by `startGrpcService`.
 *
 * @example
 * await registerResourceServer(store, { id: grpcPlan.name, scopes: [...grpcPlan.scopes] }, now)
 * demo.grpc = { address: running.address, protoDir: grpcPlan.protoDir, services: [...grpcPlan.services] }
 */
export const grpcPlan: GrpcServicePlan = Object.freeze({
  name: 'grpc-demo',
  kind: 'grpc',
  scopes: Object.freeze([...grpcDemoScopes]),
  client: Object.freeze({ scopes: Object.freeze([]), grantTypes: Object.freeze([]) }),
  protoDir: PROTO_DIR,
  services: Object.freeze([...grpcDemoServices]),
})
