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
