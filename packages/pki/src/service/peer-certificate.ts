import type { TLSSocket } from 'node:tls'
import { subjectAltNames } from '../subject-alt-names.js'
import type { PeerCertificate } from './ca-service.js'

/**
 * The client certificate a TLS socket verified against the CA's bundle (and CRL), as the CA
 * service needs it; `undefined` when there is none or it did not verify.
 */
export function verifiedPeer(socket: TLSSocket): PeerCertificate | undefined {
  if (!socket.authorized) return undefined
  const certificate = socket.getPeerX509Certificate()
  if (certificate === undefined) return undefined
  const { uris } = subjectAltNames(certificate)
  if (uris.length !== 1) return undefined
  return { serialNumber: certificate.serialNumber.toLowerCase(), spiffeId: uris[0]! }
}
