import { createHash } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import type { VerifiedToken } from '../verifier/verified-token.js'

/** The SHA-256 thumbprint (RFC 8705 §3.1 `x5t#S256`) of the client certificate of the connection a call came over. */
export type PeerThumbprint = () => string | undefined

/** RFC 8705 §3.1: base64url of the SHA-256 digest of the certificate's DER. */
export function certificateThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url')
}

const thumbprints = new WeakMap<object, string | null>()

/** What is read of a TLS socket; HTTP/2's session socket is a proxy that forwards these. */
type PeerSocket = Pick<TLSSocket, 'authorized' | 'getPeerX509Certificate'>

/** A request, or a socket, of HTTP/1.1 or HTTP/2. */
export interface RequestOrSocket {
  socket?: unknown
  /** HTTP/2 compatibility requests: the stream, whose session's socket is the connection. */
  stream?: { session?: { socket?: unknown } | undefined } | undefined
}

/**
 * The connection a request came over. HTTP/2's compatibility API gives each request a new proxy
 * as `request.socket`; the session's socket is the one object per connection, which per-connection
 * caches need as their key.
 */
export function connectionSocket(request: RequestOrSocket | object): unknown {
  const { stream, socket } = request as RequestOrSocket
  return stream?.session?.socket ?? socket ?? request
}

/**
 * The thumbprint of the client certificate a socket verified, worked out once per connection and
 * only when asked (a bound token arrived); `undefined` on plain TCP or without a verified certificate.
 */
export function socketThumbprint(socket: unknown): PeerThumbprint {
  return () => {
    if (typeof socket !== 'object' || socket === null) return undefined
    const tls = socket as Partial<PeerSocket>
    if (typeof tls.getPeerX509Certificate !== 'function' || tls.authorized !== true) return undefined
    let known = thumbprints.get(socket)
    if (known === undefined) {
      const der = tls.getPeerX509Certificate()?.raw
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
