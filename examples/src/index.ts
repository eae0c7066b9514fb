export { callersOf, demoCallers, httpServices, inStartOrder, meshPlan, meshRegistrations, servicePlan, serviceSpiffeId, TOKEN_EXCHANGE_GRANT } from './mesh-plan.js'
export type {
  CallerPlan,
  ClientRegistration,
  ExampleRequest,
  HttpServicePlan,
  MeshRegistrations,
  RegistrationOptions,
  ResourceServerRegistration,
  ServiceClientPlan,
  ServicePlan,
} from './mesh-plan.js'
export { startHttpService } from './http/start-http-service.js'
export type { StartHttpServiceOptions } from './http/start-http-service.js'
export { httpServiceDefinitions } from './http/services.js'
// For benchmarks only: the baselines with security switched off; `meshguard up` never starts them.
export { startUnsecuredHttpService } from './http/start-unsecured-http-service.js'
export type { UnsecuredHttpServiceConfig, UnsecuredHttpServiceOptions } from './http/start-unsecured-http-service.js'
export { startUnsecuredGrpcService } from './grpc/start-unsecured-grpc-service.js'
export type { UnsecuredGrpcServiceOptions } from './grpc/start-unsecured-grpc-service.js'
export type { HttpServiceDefinition, ServiceOpenApi, Sighting } from './http/http-service.js'
export type { PeerAnswer } from './http/peers.js'
export { assertTierProfile, TierProfileError } from './runtime/tier-profile.js'
export { CallReporter } from './runtime/call-reporter.js'
export type { CallEvent, CallReporterOptions, DebugLogger } from './runtime/call-reporter.js'
export { readServiceConfig } from './runtime/read-service-config.js'
export type { PeerEndpoint, RunningService, ServiceRuntimeConfig, WorkloadTlsFiles } from './runtime/service-config.js'
// The gRPC services: their own barrel, kept by their authors.
export * from './grpc/index.js'
