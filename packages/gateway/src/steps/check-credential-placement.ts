import { VerificationError } from '@meshguard/service-kit'
import type { Exchange } from '../proxy/exchange.js'

/**
 * Refuses, on every route, credentials the gateway could read one way and the upstream
 * another: two `Authorization` headers, or an `access_token` query parameter (RFC 6750 §2.3,
 * which the edge does not support; upstreams must never see a token there).
 *
 * @throws VerificationError `ERR_REQUEST_INVALID`
 */
export function checkCredentialPlacement(exchange: Exchange): void {
  if (exchange.headers.authorizationCount > 1) throw new VerificationError('ERR_REQUEST_INVALID', 'more than one authorization header')
  if (exchange.query !== '' && hasAccessTokenParameter(exchange.query)) {
    throw new VerificationError('ERR_REQUEST_INVALID', 'access_token in the query is not accepted (RFC 6750 §2.3): send the token in the Authorization header')
  }
}

/** Whether the query has an `access_token` parameter, however it is percent-encoded. */
function hasAccessTokenParameter(query: string): boolean {
  if (!query.includes('access_token') && !query.includes('%')) return false
  return new URLSearchParams(query).has('access_token')
}
