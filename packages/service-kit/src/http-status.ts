import type { VerificationError, VerificationErrorCode } from './errors.js'

export interface HttpRefusal {
  status: 400 | 401 | 403 | 404 | 503
  /** The RFC 6750 §3 challenge. */
  wwwAuthenticate: string
  body: { error: string; error_description: string }
}

/**
 * The one mapping of verification errors to HTTP (RFC 6750 §3.1): a missing token gets a bare
 * challenge, a bad one `invalid_token` (401), too little scope `insufficient_scope` (403) with
 * the scope needed, and keys that cannot be fetched 503, the service's fault and not the caller's.
 */
export function httpRefusal(error: VerificationError, options: { realm?: string; scope?: readonly string[] } = {}): HttpRefusal {
  const realm = `Bearer realm="${options.realm ?? 'meshguard'}"`
  const description = error.message.replaceAll('"', "'")
  switch (error.code) {
    case 'ERR_TOKEN_MISSING':
      return { status: 401, wwwAuthenticate: realm, body: { error: 'invalid_request', error_description: description } }
    case 'ERR_INSUFFICIENT_SCOPE': {
      const scope = options.scope?.length ? `, scope="${options.scope.join(' ')}"` : ''
      return {
        status: 403,
        wwwAuthenticate: `${realm}, error="insufficient_scope", error_description="${description}"${scope}`,
        body: { error: 'insufficient_scope', error_description: description },
      }
    }
    case 'ERR_CHAIN_REFUSED':
      return { status: 403, wwwAuthenticate: realm, body: { error: 'access_denied', error_description: description } }
    case 'ERR_REQUEST_INVALID':
    case 'ERR_PATH_INVALID':
      return { status: 400, wwwAuthenticate: realm, body: { error: 'invalid_request', error_description: description } }
    case 'ERR_ROUTE_UNKNOWN':
      return { status: 404, wwwAuthenticate: realm, body: { error: 'not_found', error_description: description } }
    case 'ERR_JWKS_UNAVAILABLE':
      return { status: 503, wwwAuthenticate: realm, body: { error: 'temporarily_unavailable', error_description: description } }
    case 'ERR_TOKEN_MALFORMED':
    case 'ERR_TOKEN_ALG':
    case 'ERR_TOKEN_TYP':
    case 'ERR_TOKEN_KID_UNKNOWN':
    case 'ERR_TOKEN_CRIT':
    case 'ERR_TOKEN_SIGNATURE':
    case 'ERR_TOKEN_ISSUER':
    case 'ERR_TOKEN_AUDIENCE':
    case 'ERR_TOKEN_EXPIRED':
    case 'ERR_TOKEN_NOT_YET_VALID':
    case 'ERR_TOKEN_IAT_FUTURE':
    case 'ERR_TOKEN_REVOKED':
    case 'ERR_TOKEN_BINDING':
    case 'ERR_TOKEN_INACTIVE':
      return {
        status: 401,
        wwwAuthenticate: `${realm}, error="invalid_token", error_description="${description}"`,
        body: { error: 'invalid_token', error_description: description },
      }
  }
}

/** gRPC status codes (grpc/status.h) each verification error maps to. */
export const grpcStatus = { INVALID_ARGUMENT: 3, PERMISSION_DENIED: 7, UNAVAILABLE: 14, UNIMPLEMENTED: 12, UNAUTHENTICATED: 16 } as const

export function grpcStatusOf(code: VerificationErrorCode): (typeof grpcStatus)[keyof typeof grpcStatus] {
  return grpcStatus[grpcStatusNameOf(code)]
}

/** The name of the gRPC status a verification error maps to, as grpc-js's `status` enum spells it. */
export function grpcStatusNameOf(code: VerificationErrorCode): keyof typeof grpcStatus {
  if (code === 'ERR_INSUFFICIENT_SCOPE' || code === 'ERR_CHAIN_REFUSED') return 'PERMISSION_DENIED'
  if (code === 'ERR_REQUEST_INVALID' || code === 'ERR_PATH_INVALID') return 'INVALID_ARGUMENT'
  if (code === 'ERR_ROUTE_UNKNOWN') return 'UNIMPLEMENTED'
  if (code === 'ERR_JWKS_UNAVAILABLE') return 'UNAVAILABLE'
  return 'UNAUTHENTICATED'
}
