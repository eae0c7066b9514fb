import type { TlsOptions } from 'node:tls'
import { secureContextOptions } from './secure-context-options.js'
import { checkPeerVerification, type PeerVerificationOptions } from './security-tier.js'
import type { WorkloadIdentity } from './workload-identity.js'

/**
 * Options for `https.createServer`, `http2.createSecureServer` or `tls.createServer`: the
 * workload's certificate and key, TLS 1.2 at least, a client certificate required and verified
 * against the trust bundle (and the CRL, when the identity has one).
 *
 * @throws TypeError when peers would not be verified (`rejectUnauthorized: false`, or
 *   `NODE_TLS_REJECT_UNAUTHORIZED=0`) and `tier` is not `'low'`.
 * @example
 * const server = https.createServer(mtlsServerOptions(identity), handler)
 * new PeerAuthorizer({ trustDomain: identity.trustDomain, allow: [ORDERS], log }).attach(server)
 * rotateServerCredentials(server, identity)
 */
export function mtlsServerOptions(identity: WorkloadIdentity, options: PeerVerificationOptions = {}): TlsOptions {
  const rejectUnauthorized = checkPeerVerification(options, 'mtlsServerOptions')
  return { ...secureContextOptions(identity.credentials), requestCert: true, rejectUnauthorized }
}

/**
 * Options for a TLS server that proves its own identity and asks clients for none: the
 * workload's certificate and key, TLS 1.2 at least, no client certificate requested. For the
 * medium security tier, where traffic is encrypted and servers are authenticated (clients check
 * the server's SPIFFE ID with `createMtlsAgent`) while callers are authenticated by their
 * tokens alone. Certificate-bound tokens cannot be honoured over such a server: use
 * {@link mtlsServerOptions} for them.
 *
 * @example
 * const server = https.createServer(tlsServerOptions(identity), handler)
 * rotateServerCredentials(server, identity)
 */
export function tlsServerOptions(identity: WorkloadIdentity): TlsOptions {
  return { ...secureContextOptions(identity.credentials), requestCert: false }
}
