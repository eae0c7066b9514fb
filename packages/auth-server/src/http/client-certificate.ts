import { createHash } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import { subjectAltNames } from '@meshguard/pki'
import type { ClientCertificate } from '../client-auth/context.js'

/** Per connection: the mutual-TLS listener disables renegotiation, so a socket's peer never changes. */
const seen = new WeakMap<TLSSocket, ClientCertificate | null>()

/**
 * The certificate the client presented in the handshake of this TLS socket, whether or not it
 * verified; undefined when there was none.
 */
export function clientCertificate(socket: TLSSocket): ClientCertificate | undefined {
  let known = seen.get(socket)
  if (known === undefined) {
    const certificate = socket.getPeerX509Certificate()
    known = certificate
      ? {
          verified: socket.authorized,
          uris: subjectAltNames(certificate).uris,
          thumbprint: createHash('sha256').update(certificate.raw).digest('base64url'),
        }
      : null
    seen.set(socket, known)
  }
  return known ?? undefined
}
