import { httpRefusal, VerificationError } from '@meshguard/service-kit'
import { GatewayError, type GatewayErrorCode } from '../errors.js'

/** How the gateway answers a refusal or failure: status, extra headers, OAuth-style JSON body (RFC 6749 §5.2 shape). */
export interface GatewayRefusal {
  status: number
  /** Flat list: name, value, name, value… */
  headers: string[]
  body: { error: string; error_description: string }
}

const STATUS: Record<GatewayErrorCode, [number, string]> = {
  ERR_CONFIG_INVALID: [500, 'server_error'],
  ERR_RELOAD_REFUSED: [500, 'server_error'],
  ERR_ROUTE_NOT_FOUND: [404, 'not_found'],
  ERR_TARGET_INVALID: [400, 'invalid_request'],
  ERR_HOST_INVALID: [400, 'invalid_request'],
  ERR_BODY_TOO_LARGE: [413, 'invalid_request'],
  ERR_RATE_LIMITED: [429, 'too_many_requests'],
  ERR_CORS_REFUSED: [403, 'access_denied'],
  ERR_UPSTREAM_UNAVAILABLE: [502, 'temporarily_unavailable'],
  ERR_UPSTREAM_TIMEOUT: [504, 'temporarily_unavailable'],
  ERR_GATEWAY_CLOSING: [503, 'temporarily_unavailable'],
  ERR_INTROSPECTION_UNAVAILABLE: [503, 'temporarily_unavailable'],
  ERR_INTROSPECTION_INVALID: [502, 'temporarily_unavailable'],
  ERR_SHARED_STATE_UNAVAILABLE: [503, 'temporarily_unavailable'],
}

/**
 * The one mapping of the gateway's errors to HTTP. Token refusals go through the service kit's
 * `httpRefusal` (401 with a `WWW-Authenticate: Bearer` challenge, 403 `insufficient_scope`, 503
 * when the issuer's keys cannot be had); the gateway's own codes through the table above; 429
 * carries `Retry-After` (RFC 9110 §10.2.3); anything else is a 500 `server_error`.
 *
 * @example
 * gatewayRefusal(new GatewayError('ERR_UPSTREAM_TIMEOUT', 'orders did not answer in time')).status // 504
 */
export function gatewayRefusal(err: unknown, options: { realm?: string; scope?: readonly string[] } = {}): GatewayRefusal {
  if (err instanceof VerificationError) {
    const { status, wwwAuthenticate, body } = httpRefusal(err, options)
    return { status, headers: ['www-authenticate', wwwAuthenticate], body }
  }
  if (err instanceof GatewayError) {
    const [status, error] = STATUS[err.code]
    const headers = err.retryAfterSec === undefined ? [] : ['retry-after', String(err.retryAfterSec)]
    return { status, headers, body: { error, error_description: err.message } }
  }
  return { status: 500, headers: [], body: { error: 'server_error', error_description: 'the gateway failed to handle the request' } }
}
