import type { SecureContextOptions } from 'node:tls'
import type { WorkloadCredentials } from './workload-identity.js'

/** TLS 1.2 at least; TLS 1.3 is preferred by OpenSSL whenever both ends have it. */
export const MIN_TLS_VERSION = 'TLSv1.2'

/** Node reads one CRL per PEM string, so a PEM holding several is given as a list. */
const CRL_PEM = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g

/**
 * The secure context for workload credentials: what a server is created with and what
 * `setSecureContext` is given on rotation (which resets every field, `minVersion` included).
 */
export function secureContextOptions(credentials: WorkloadCredentials): SecureContextOptions {
  return {
    cert: credentials.certificateChainPem,
    key: credentials.privateKeyPem,
    ca: credentials.trustBundlePem,
    ...(credentials.crlPem !== undefined && { crl: credentials.crlPem.match(CRL_PEM) ?? [] }),
    minVersion: MIN_TLS_VERSION,
  }
}
