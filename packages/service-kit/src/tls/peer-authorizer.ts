import type { Socket } from 'node:net'
import type { Server, TLSSocket } from 'node:tls'
import { isTrustDomain, type SpiffeId } from '@meshguard/pki'
import { checkPeerCertificate } from './check-peer-certificate.js'
import { handshakeRefusal } from './handshake-refusal.js'
import { PeerRefusalError, refusalReporter, type RefusalSink } from './peer-refusal.js'
import { connectionSocket, type RequestOrSocket } from '../authorization/certificate-binding.js'
import { compileAllowList, type SpiffeIdAllowList } from './spiffe-allow-list.js'

export interface PeerAuthorizerOptions extends RefusalSink {
  /** The trust domain every peer must belong to, normally the service's own (`identity.trustDomain`). */
  trustDomain: string
  /** The workloads that may connect at all; routes may narrow it further with {@link PeerAuthorizer.forRoute}. */
  allow: SpiffeIdAllowList
}

/**
 * Decides which clients of a TLS server may talk to it, by the SPIFFE ID in their verified
 * certificate: an X509-SVID of the trust domain, for `clientAuth`, on the service's allow-list,
 * and on a route's when it has one. Every refusal is reported with its reason, those of the TLS
 * stack (no certificate, untrusted, expired, revoked, old TLS version) included.
 *
 * @throws TypeError at construction for an empty or malformed allow-list, or no refusal sink.
 * @example
 * const peers = new PeerAuthorizer({ trustDomain: identity.trustDomain, allow: [ORDERS, CART], log })
 * peers.attach(server)
 * const refunds = peers.forRoute('POST /refunds', [ORDERS])
 * // in the handler: const caller = refunds(request), or answer 403 on PeerRefusalError
 */
export class PeerAuthorizer {
  readonly trustDomain: string
  readonly #allow: (id: SpiffeId) => boolean
  readonly #report: (refusal: PeerRefusalError) => void
  /** The verdict on each connection, reached once, keyed by the connection's socket. */
  readonly #verdicts = new WeakMap<object, SpiffeId | PeerRefusalError>()

  constructor(options: PeerAuthorizerOptions) {
    if (typeof options.trustDomain !== 'string' || !isTrustDomain(options.trustDomain)) throw new TypeError('trustDomain must be a trust domain name')
    this.trustDomain = options.trustDomain
    this.#allow = compileAllowList(options.allow, 'allow')
    this.#report = refusalReporter(options, true)
  }

  /**
   * Checks every client of `server` as soon as its handshake ends and destroys the connection of
   * one that is refused, before any request is read; reports the handshakes the TLS stack
   * refused. Returns the function that detaches it.
   */
  attach(server: Server): () => void {
    const onSecureConnection = (socket: TLSSocket) => {
      const verdict = this.#verdict(socket)
      if (verdict instanceof PeerRefusalError) {
        this.#report(verdict)
        socket.destroy()
      }
    }
    const onClientError = (error: Error, socket: TLSSocket) => {
      const refusal = handshakeRefusal(error, socket)
      if (refusal !== undefined) this.#report(refusal)
    }
    // First in line, so that a refused connection is gone before the HTTP server reads from it.
    server.prependListener('secureConnection', onSecureConnection)
    server.on('tlsClientError', onClientError)
    return () => {
      server.off('secureConnection', onSecureConnection)
      server.off('tlsClientError', onClientError)
    }
  }

  /**
   * The SPIFFE ID of the client a request came from, checked against the service's allow-list
   * once per connection. Give it the request (HTTP/1.1 or HTTP/2) or its connection's socket.
   *
   * @throws PeerRefusalError, after reporting it.
   */
  authorize(request: Socket | RequestOrSocket): SpiffeId {
    const verdict = this.#verdict(connectionSocket(request) as Socket)
    if (verdict instanceof PeerRefusalError) {
      this.#report(verdict)
      throw verdict
    }
    return verdict
  }

  /**
   * A check for one route: the client must also be on `allow`. `route` names it in the log.
   *
   * @throws TypeError at once for an empty or malformed allow-list.
   */
  forRoute(route: string, allow: SpiffeIdAllowList): (request: Socket | RequestOrSocket) => SpiffeId {
    const allowed = compileAllowList(allow, `the allow-list of ${route}`)
    return (request) => {
      const id = this.authorize(request)
      if (!allowed(id)) {
        const { remoteAddress } = connectionSocket(request) as Socket
        const refusal = new PeerRefusalError('ERR_PEER_NOT_ALLOWED', `${id.uri} is not allowed on ${route}`, { spiffeId: id.uri, route, remoteAddress })
        this.#report(refusal)
        throw refusal
      }
      return id
    }
  }

  #verdict(socket: Socket): SpiffeId | PeerRefusalError {
    let verdict = this.#verdicts.get(socket)
    if (verdict === undefined) {
      verdict = this.#judge(socket as Partial<TLSSocket> & Socket)
      this.#verdicts.set(socket, verdict)
    }
    return verdict
  }

  #judge(socket: Partial<TLSSocket> & Socket): SpiffeId | PeerRefusalError {
    const remoteAddress = socket.remoteAddress
    if (typeof socket.getPeerX509Certificate !== 'function') {
      return new PeerRefusalError('ERR_PEER_NO_CERTIFICATE', 'the connection is not TLS', { remoteAddress })
    }
    const certificate = socket.getPeerX509Certificate()
    if (certificate === undefined) return new PeerRefusalError('ERR_PEER_NO_CERTIFICATE', 'the peer sent no certificate', { remoteAddress })
    if (socket.authorized !== true) {
      const tlsCode = String(socket.authorizationError)
      return new PeerRefusalError('ERR_PEER_UNTRUSTED', `the peer certificate did not verify (${tlsCode})`, { tlsCode, remoteAddress })
    }
    try {
      return checkPeerCertificate(certificate, { trustDomain: this.trustDomain, purpose: 'clientAuth', allow: this.#allow }, { remoteAddress })
    } catch (err) {
      if (err instanceof PeerRefusalError) return err
      throw err
    }
  }
}
