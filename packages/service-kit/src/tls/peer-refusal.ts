/**
 * Why a TLS peer was refused. Those up to `ERR_PEER_HANDSHAKE` are decided by the TLS stack
 * while it verifies the chain against the trust bundle (and CRL); `ERR_PEER_PURPOSE` and
 * `ERR_PEER_CA` by either; the rest by the X509-SVID checks and allow-lists that follow.
 *
 * @example
 * switch (err.code) { case 'ERR_PEER_NOT_ALLOWED': return 403; default: return 401 }
 */
export const peerRefusalCodes = [
  'ERR_PEER_NO_CERTIFICATE',
  'ERR_PEER_UNTRUSTED',
  'ERR_PEER_EXPIRED',
  'ERR_PEER_NOT_YET_VALID',
  'ERR_PEER_REVOKED',
  'ERR_PEER_REVOCATION_UNKNOWN',
  'ERR_PEER_TLS_VERSION',
  'ERR_PEER_HANDSHAKE',
  'ERR_PEER_PURPOSE',
  'ERR_PEER_CA',
  'ERR_PEER_SAN',
  'ERR_PEER_TRUST_DOMAIN',
  'ERR_PEER_NOT_ALLOWED',
] as const

export type PeerRefusalCode = (typeof peerRefusalCodes)[number]

/** What is known of the refused peer; the certificate fields only once it got past the chain check. */
export interface PeerDetails {
  /** The SPIFFE ID the certificate claims, when it has a readable one. */
  spiffeId?: string | undefined
  serialNumber?: string | undefined
  remoteAddress?: string | undefined
  /** OpenSSL's verification result or the TLS error code, for chain and handshake refusals. */
  tlsCode?: string | undefined
  /** The route or gRPC method whose allow-list refused the peer. */
  route?: string | undefined
}

/**
 * A refused TLS peer, with a stable `code` to switch on.
 *
 * @example
 * if (err instanceof PeerRefusalError && err.code === 'ERR_PEER_NOT_ALLOWED') response.writeHead(403).end()
 */
export class PeerRefusalError extends Error {
  constructor(
    readonly code: PeerRefusalCode,
    message: string,
    readonly details: PeerDetails = {},
  ) {
    super(message)
    this.name = 'PeerRefusalError'
  }
}

/** The part of a pino (or console-like) logger refusals and failed renewals are written to. */
export interface WarnLogger {
  warn(details: Record<string, unknown>, message: string): void
}

/** Where refusals go: a callback, a logger, or both. */
export interface RefusalSink {
  /** Every refusal, with its reason and what is known of the peer. */
  onRefusal?: ((reason: PeerRefusalError, details: PeerDetails) => void) | undefined
  /** Gets a `warn` line per refusal: `{ code, ...details }` and the reason. */
  log?: WarnLogger | undefined
}

/**
 * The one function refusals are reported through.
 *
 * @throws TypeError when `required` and neither sink is given: a refusal nobody sees cannot be investigated.
 */
export function refusalReporter(sink: RefusalSink, required: boolean): (refusal: PeerRefusalError) => void {
  const { onRefusal, log } = sink
  if (onRefusal !== undefined && typeof onRefusal !== 'function') throw new TypeError('onRefusal must be a function')
  if (log !== undefined && typeof (log as Partial<WarnLogger> | null)?.warn !== 'function') throw new TypeError('log must have a warn method')
  if (required && onRefusal === undefined && log === undefined) {
    throw new TypeError('pass onRefusal or log: every refused peer must be logged with its reason')
  }
  return (refusal) => {
    onRefusal?.(refusal, refusal.details)
    log?.warn({ code: refusal.code, ...refusal.details }, refusal.message)
  }
}
