/**
 * Why the CA refused or failed. `ERR_CSR_*` and `ERR_TTL` are the requester's fault and say
 * what to change; `ERR_JOIN_TOKEN` and `ERR_PEER_CERTIFICATE` are failed proofs of identity;
 * `ERR_CA_*` are the CA's own state.
 */
export const pkiErrorCodes = [
  'ERR_CSR_MALFORMED',
  'ERR_CSR_SIGNATURE',
  'ERR_CSR_KEY',
  'ERR_CSR_IDENTITY',
  'ERR_CSR_CA',
  'ERR_CSR_SAN',
  'ERR_TTL',
  'ERR_JOIN_TOKEN',
  'ERR_PEER_CERTIFICATE',
  'ERR_NOT_FOUND',
  'ERR_CA_EXISTS',
  'ERR_CA_MISSING',
  'ERR_CA_KEY',
] as const

export type PkiErrorCode = (typeof pkiErrorCodes)[number]

/** A refusal or failure of the CA, with a stable `code` to switch on. */
export class PkiError extends Error {
  constructor(
    readonly code: PkiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'PkiError'
  }
}
