import type { TLSSocket } from 'node:tls'
import { PeerRefusalError, type PeerRefusalCode } from './peer-refusal.js'

const UNTRUSTED = 'the peer chain does not lead to the trust bundle'
/** With CRLs loaded, OpenSSL goes on to look for the CRL of every issuer and reports the last failure, so an untrusted chain ends in a CRL error. */
const UNTRUSTED_OR_NO_CRL = `${UNTRUSTED}, or this service lacks the CRL of one of its CAs (the root's and the intermediate's are both needed)`

/** OpenSSL's verification results (as Node names them) that have a refusal code of their own; any other is `ERR_PEER_UNTRUSTED`. */
const VERIFY_RESULTS: Readonly<Record<string, [PeerRefusalCode, string]>> = {
  CERT_HAS_EXPIRED: ['ERR_PEER_EXPIRED', 'the peer certificate has expired'],
  CERT_NOT_YET_VALID: ['ERR_PEER_NOT_YET_VALID', 'the peer certificate is not valid yet'],
  CERT_REVOKED: ['ERR_PEER_REVOKED', 'the peer certificate is revoked by the CRL'],
  UNABLE_TO_GET_CRL: ['ERR_PEER_UNTRUSTED', UNTRUSTED_OR_NO_CRL],
  CRL_SIGNATURE_FAILURE: ['ERR_PEER_UNTRUSTED', UNTRUSTED_OR_NO_CRL],
  CRL_HAS_EXPIRED: ['ERR_PEER_REVOCATION_UNKNOWN', "this service's CRL has expired: it needs a fresh one"],
  CRL_NOT_YET_VALID: ['ERR_PEER_REVOCATION_UNKNOWN', "this service's CRL is not valid yet"],
  INVALID_PURPOSE: ['ERR_PEER_PURPOSE', 'the peer certificate is not for this purpose (extended key usage)'],
  INVALID_CA: ['ERR_PEER_CA', 'a certificate in the peer chain is used as a CA but is not one'],
}

/** Handshake errors (Node's codes for OpenSSL's reasons) with a refusal code of their own; any other is `ERR_PEER_HANDSHAKE`. */
const HANDSHAKE_ERRORS: Readonly<Record<string, [PeerRefusalCode, string]>> = {
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: ['ERR_PEER_NO_CERTIFICATE', 'the peer sent no certificate'],
  ERR_SSL_UNSUPPORTED_PROTOCOL: ['ERR_PEER_TLS_VERSION', 'the peer offered only TLS versions older than 1.2'],
  ERR_SSL_WRONG_VERSION_NUMBER: ['ERR_PEER_TLS_VERSION', 'the peer spoke a TLS version other than the one agreed, or not TLS'],
}

/**
 * Why the TLS stack ended a connection before it was established, from a server's
 * `tlsClientError`. A chain that does not verify surfaces as a reset whose socket still holds
 * OpenSSL's verification result. `undefined` when the peer just went away (a port probe).
 */
export function handshakeRefusal(error: Error & { code?: unknown }, socket: TLSSocket): PeerRefusalError | undefined {
  const remoteAddress = socket.remoteAddress
  const verifyResult: unknown = socket.authorizationError
  if (typeof verifyResult === 'string') {
    const [code, message] = VERIFY_RESULTS[verifyResult] ?? ['ERR_PEER_UNTRUSTED', UNTRUSTED]
    return new PeerRefusalError(code, `${message} (${verifyResult})`, { tlsCode: verifyResult, remoteAddress })
  }
  const tlsCode = typeof error.code === 'string' ? error.code : undefined
  if (tlsCode === 'ECONNRESET' || tlsCode === 'EPIPE') return undefined
  const known = tlsCode === undefined ? undefined : HANDSHAKE_ERRORS[tlsCode]
  if (known !== undefined) return new PeerRefusalError(known[0], `${known[1]} (${tlsCode!})`, { tlsCode, remoteAddress })
  return new PeerRefusalError('ERR_PEER_HANDSHAKE', `the TLS handshake failed: ${error.message.split('\n')[0]!}`, { tlsCode, remoteAddress })
}
