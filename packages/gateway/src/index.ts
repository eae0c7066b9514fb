export { createGateway } from './gateway.js'
export type { Gateway, GatewayDeps } from './gateway.js'
export { runGateway } from './run-gateway.js'
export type { RunGatewayOptions, RunningGateway } from './run-gateway.js'
export { loadConfig, parseConfig, configWarnings, environmentVariables } from './config/load-config.js'
export type { LoadConfigOptions } from './config/load-config.js'
export { gatewayConfigSchema } from './config/schema.js'
export type {
  GatewayConfig,
  GatewayConfigInput,
  ListenConfig,
  TokensConfig,
  RouteConfig,
  RoutePolicy,
  CorsConfig,
  RateLimitConfig,
  UpstreamConfig,
  UpstreamTlsConfig,
} from './config/schema.js'
export { GatewayError, gatewayErrorCodes } from './errors.js'
export type { GatewayErrorCode } from './errors.js'
export { gatewayRefusal } from './respond/gateway-refusal.js'
export type { GatewayRefusal } from './respond/gateway-refusal.js'
export { jwtTokenResolver } from './auth/token-resolver.js'
export type { ResolvedToken, TokenResolver, TokenResolverFactory } from './auth/token-resolver.js'
export { MemoryRateLimitStore } from './rate-limit/memory-rate-limit-store.js'
export type { MemoryRateLimitStoreOptions } from './rate-limit/memory-rate-limit-store.js'
export type { RateLimit, RateLimitStore } from './rate-limit/rate-limit-store.js'
export { hopByHopHeaders, gatewaySetHeaders, identityHeaders, identityHeaderPrefixes, connectionProtectedHeaders } from './headers/header-lists.js'
