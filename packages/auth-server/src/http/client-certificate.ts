import { createHash } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
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
          uris: uriNames(certificate.subjectAltName),
          thumbprint: createHash('sha256').update(certificate.raw).digest('base64url'),
        }
      : null
    seen.set(socket, known)
  }
  return known ?? undefined
}

/**
 * The URI names of node:crypto's rendering of subjectAltName: entries joined by `", "`, each
 * `type:value`, a value holding a comma, quote or other special character written as a JSON
 * string with the comma escaped (`\u002c`), so a crafted name cannot pose as a second entry.
 */
function uriNames(rendered: string | undefined): string[] {
  if (rendered === undefined || rendered === '') return []
  const uris: string[] = []
  for (const entry of rendered.split(', ')) {
    if (!entry.startsWith('URI:')) continue
    const value = entry.slice('URI:'.length)
    uris.push(value.startsWith('"') ? (JSON.parse(value) as string) : value)
  }
  return uris
}
