import { X509Certificate } from 'node:crypto'
import type { PeerCertificate } from 'node:tls'
import type { SpiffeId } from '@meshguard/pki'
import { checkPeerCertificate } from './check-peer-certificate.js'
import { PeerRefusalError } from './peer-refusal.js'

/**
 * A `checkServerIdentity` for `tls.connect` that checks the server's SPIFFE ID instead of its
 * host name: an X509-SVID of `trustDomain`, for `serverAuth`, that `allow` accepts. Node calls it
 * once the chain has verified, on every full handshake; the error it returns ends the connection.
 */
export function spiffeServerIdentity(
  trustDomain: string,
  allow: (id: SpiffeId) => boolean,
  report: (refusal: PeerRefusalError) => void,
): (hostname: string, certificate: PeerCertificate) => Error | undefined {
  return (_hostname, certificate) => {
    try {
      checkPeerCertificate(new X509Certificate(certificate.raw), { trustDomain, purpose: 'serverAuth', allow })
      return undefined
    } catch (err) {
      if (!(err instanceof PeerRefusalError)) return err instanceof Error ? err : new Error(String(err))
      report(err)
      return err
    }
  }
}
