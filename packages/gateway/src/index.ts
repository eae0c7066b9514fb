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
  IntrospectionConfig,
  RedisConfig,
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
export { phantomTokenResolver, isJwt } from './auth/phantom-token-resolver.js'
export type { PhantomTokenOptions } from './auth/phantom-token-resolver.js'
export { IntrospectionClient } from './phantom/introspection-client.js'
export type { Introspection } from './phantom/introspection-client.js'
export { PhantomCache } from './phantom/phantom-cache.js'
export type { PhantomEntry } from './phantom/phantom-cache.js'
export type { SharedPhantomCache } from './phantom/shared-phantom-cache.js'
export { RedisPhantomCache } from './phantom/redis-phantom-cache.js'
export { phantomTokenId } from './phantom/token-id.js'
export { MemoryRateLimitStore } from './rate-limit/memory-rate-limit-store.js'
export type { MemoryRateLimitStoreOptions } from './rate-limit/memory-rate-limit-store.js'
export { RedisRateLimitStore } from './rate-limit/redis-rate-limit-store.js'
export type { RedisRateLimitStoreOptions } from './rate-limit/redis-rate-limit-store.js'
export type { PhantomOutcome } from './observability/gateway-metrics.js'
export type { RateLimit, RateLimitStore } from './rate-limit/rate-limit-store.js'
export { hopByHopHeaders, gatewaySetHeaders, identityHeaders, identityHeaderPrefixes, connectionProtectedHeaders } from './headers/header-lists.js'
