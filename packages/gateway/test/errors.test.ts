import { httpRefusal, VerificationError, verificationErrorCodes } from '@meshguard/service-kit'
import { describe, expect, it } from 'vitest'
import { GatewayError, gatewayErrorCodes, gatewayRefusal } from '../src/index.js'

describe('the gateway’s errors', () => {
  it('has unique codes, none shared with the service kit’s', () => {
    expect(new Set(gatewayErrorCodes).size).toBe(gatewayErrorCodes.length)
    expect(gatewayErrorCodes.filter((code) => (verificationErrorCodes as readonly string[]).includes(code))).toEqual([])
  })

  it('maps every code once to a status and an OAuth-style body', () => {
    const table = Object.fromEntries(gatewayErrorCodes.map((code) => [code, (({ status, body }) => `${status} ${body.error}`)(gatewayRefusal(new GatewayError(code, 'x')))]))
    expect(table).toEqual({
      ERR_CONFIG_INVALID: '500 server_error',
      ERR_RELOAD_REFUSED: '500 server_error',
      ERR_ROUTE_NOT_FOUND: '404 not_found',
      ERR_TARGET_INVALID: '400 invalid_request',
      ERR_HOST_INVALID: '400 invalid_request',
      ERR_BODY_TOO_LARGE: '413 invalid_request',
      ERR_RATE_LIMITED: '429 too_many_requests',
      ERR_CORS_REFUSED: '403 access_denied',
      ERR_UPSTREAM_UNAVAILABLE: '502 temporarily_unavailable',
      ERR_UPSTREAM_TIMEOUT: '504 temporarily_unavailable',
      ERR_GATEWAY_CLOSING: '503 temporarily_unavailable',
      ERR_INTROSPECTION_UNAVAILABLE: '503 temporarily_unavailable',
      ERR_INTROSPECTION_INVALID: '502 temporarily_unavailable',
      ERR_SHARED_STATE_UNAVAILABLE: '503 temporarily_unavailable',
    })
  })

  it('answers token refusals through the service kit’s httpRefusal, with the route’s scopes', () => {
    for (const code of verificationErrorCodes) {
      const error = new VerificationError(code, 'x')
      const refusal = gatewayRefusal(error, { realm: 'edge', scope: ['orders.read'] })
      const kit = httpRefusal(error, { realm: 'edge', scope: ['orders.read'] })
      expect(refusal).toEqual({ status: kit.status, headers: ['www-authenticate', kit.wwwAuthenticate], body: kit.body })
    }
  })

  it('says when to retry after a rate limit, and hides anything unexpected behind a 500', () => {
    expect(gatewayRefusal(new GatewayError('ERR_RATE_LIMITED', 'slow down', { retryAfterSec: 3 })).headers).toEqual(['retry-after', '3'])
    expect(gatewayRefusal(new Error('secret detail'))).toEqual({ status: 500, headers: [], body: { error: 'server_error', error_description: 'the gateway failed to handle the request' } })
  })
})
