/**
 * Why a request was refused. Each code maps once to HTTP (`http-status.ts`) and once to gRPC.
 * `ERR_JWKS_UNAVAILABLE` is the verifier's own failure (no usable keys), not the caller's.
 */
export const verificationErrorCodes = [
  'ERR_TOKEN_MISSING',
  'ERR_TOKEN_MALFORMED',
  'ERR_TOKEN_ALG',
  'ERR_TOKEN_TYP',
  'ERR_TOKEN_KID_UNKNOWN',
  'ERR_TOKEN_CRIT',
  'ERR_TOKEN_SIGNATURE',
  'ERR_TOKEN_ISSUER',
  'ERR_TOKEN_AUDIENCE',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_NOT_YET_VALID',
  'ERR_TOKEN_IAT_FUTURE',
  'ERR_TOKEN_REVOKED',
  'ERR_TOKEN_BINDING',
  'ERR_TOKEN_INACTIVE',
  'ERR_INSUFFICIENT_SCOPE',
  'ERR_PATH_INVALID',
  'ERR_ROUTE_UNKNOWN',
  'ERR_CHAIN_REFUSED',
  'ERR_REQUEST_INVALID',
  'ERR_JWKS_UNAVAILABLE',
] as const

export type VerificationErrorCode = (typeof verificationErrorCodes)[number]

/** A refused token or request, with a stable `code` to switch on. */
export class VerificationError extends Error {
  constructor(
    readonly code: VerificationErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'VerificationError'
  }
}

/**
 * Why the outbound client could not get a token. `ERR_TOKEN_ENDPOINT` is an answer from the
 * token endpoint other than a token (its RFC 6749 §5.2 `error` in `oauthError` when it sent one);
 * `ERR_TOKEN_ENDPOINT_UNREACHABLE` is no answer at all (connection, TLS or timeout);
 * `ERR_TOKEN_RESPONSE_INVALID` is a success response that is not a usable bearer token (§5.1).
 */
export const outboundErrorCodes = ['ERR_TOKEN_ENDPOINT', 'ERR_TOKEN_ENDPOINT_UNREACHABLE', 'ERR_TOKEN_RESPONSE_INVALID'] as const

export type OutboundErrorCode = (typeof outboundErrorCodes)[number]

/**
 * A token the outbound client needed and could not get, with a stable `code` to switch on.
 *
 * @example
 * if (err instanceof OutboundError && err.oauthError === 'invalid_client') log.error('the client secret was refused')
 */
export class OutboundError extends Error {
  /** The token endpoint's HTTP status, when it answered. */
  readonly status: number | undefined
  /** The OAuth `error` from the token endpoint's JSON body (RFC 6749 §5.2), e.g. `invalid_client`. */
  readonly oauthError: string | undefined

  constructor(
    readonly code: OutboundErrorCode,
    message: string,
    details: { status?: number; oauthError?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'OutboundError'
    this.status = details.status
    this.oauthError = details.oauthError
  }
}
