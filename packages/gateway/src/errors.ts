/**
 * Why the gateway refused or failed a request, or would not start. Token refusals are the service
 * kit's `VerificationError`s, answered through its `httpRefusal`; these are the gateway's own.
 * Each code maps once to HTTP in `respond/gateway-refusal.ts`.
 */
export const gatewayErrorCodes = [
  'ERR_CONFIG_INVALID',
  'ERR_RELOAD_REFUSED',
  'ERR_ROUTE_NOT_FOUND',
  'ERR_TARGET_INVALID',
  'ERR_HOST_INVALID',
  'ERR_BODY_TOO_LARGE',
  'ERR_RATE_LIMITED',
  'ERR_CORS_REFUSED',
  'ERR_UPSTREAM_UNAVAILABLE',
  'ERR_UPSTREAM_TIMEOUT',
  'ERR_GATEWAY_CLOSING',
  'ERR_INTROSPECTION_UNAVAILABLE',
  'ERR_INTROSPECTION_INVALID',
  'ERR_SHARED_STATE_UNAVAILABLE',
] as const

export type GatewayErrorCode = (typeof gatewayErrorCodes)[number]

/**
 * A refusal or failure of the gateway, with a stable `code` to switch on.
 *
 * @example
 * try { loadConfig({ file: 'gateway.yaml' }) } catch (err) { if (err instanceof GatewayError && err.code === 'ERR_CONFIG_INVALID') console.error(err.message) }
 */
export class GatewayError extends Error {
  /** For `ERR_RATE_LIMITED`: when the caller may try again, in whole seconds (`Retry-After`). */
  readonly retryAfterSec: number | undefined

  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    details: { retryAfterSec?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'GatewayError'
    this.retryAfterSec = details.retryAfterSec
  }
}
