import { createHash } from 'node:crypto'
import { TLSSocket } from 'node:tls'
import type { VerifiedToken } from '../verifier/verified-token.js'

/** The SHA-256 thumbprint (RFC 8705 §3.1 `x5t#S256`) of the client certificate of the connection a call came over. */
export type PeerThumbprint = () => string | undefined

/** RFC 8705 §3.1: base64url of the SHA-256 digest of the certificate's DER. */
export function certificateThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url')
}

const thumbprints = new WeakMap<TLSSocket, string | null>()

/**
 * The thumbprint of the client certificate a socket verified, worked out once per connection and
 * only when asked (a bound token arrived); `undefined` on plain TCP or without a verified certificate.
 */
export function socketThumbprint(socket: unknown): PeerThumbprint {
  return () => {
    if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined
    let known = thumbprints.get(socket)
    if (known === undefined) {
      const der = socket.getPeerX509Certificate()?.raw
      known = der === undefined ? null : certificateThumbprint(der)
      thumbprints.set(socket, known)
    }
    return known ?? undefined
  }
}

/**
 * RFC 8705 §3: a token bound to a certificate (`cnf.x5t#S256`) is good only over a connection
 * presenting that certificate; an unbound token is good over any.
 */
export function bindingHolds(token: VerifiedToken, peer: PeerThumbprint | undefined): boolean {
  const bound = token.claims.cnf?.['x5t#S256']
  return bound === undefined || (peer !== undefined && peer() === bound)
}
