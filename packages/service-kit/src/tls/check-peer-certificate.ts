import type { X509Certificate } from 'node:crypto'
import { parseSpiffeId, type SpiffeId, subjectAltNames } from '@meshguard/pki'
import { PeerRefusalError, type PeerDetails } from './peer-refusal.js'

/** What the peer's certificate must be good for: `clientAuth` for a server's clients, `serverAuth` for a client's server. */
export type PeerPurpose = 'clientAuth' | 'serverAuth'

/** What a peer whose chain verified must also be. */
export interface PeerRequirements {
  trustDomain: string
  purpose: PeerPurpose
  allow: (id: SpiffeId) => boolean
}

/** RFC 5280 §4.2.1.12. */
const EXTENDED_KEY_USAGE: Readonly<Record<PeerPurpose, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
}

/**
 * The checks a verified chain does not make: the leaf is an X509-SVID of the trust domain, for
 * the purpose at hand, with an ID on the allow-list. Returns the peer's SPIFFE ID.
 *
 * @throws PeerRefusalError with the first check that failed.
 * @example
 * const certificate = socket.getPeerX509Certificate() // after the chain verified
 * const caller = checkPeerCertificate(certificate, { trustDomain: 'example.org', purpose: 'clientAuth', allow: (id) => id.path.startsWith('/ns/shop/') })
 */
export function checkPeerCertificate(certificate: X509Certificate, requirements: PeerRequirements, known: PeerDetails = {}): SpiffeId {
  const { uris } = subjectAltNames(certificate)
  const details: PeerDetails = { ...known, serialNumber: certificate.serialNumber.toLowerCase(), ...(uris.length === 1 && { spiffeId: uris[0] }) }
  const refuse = (code: PeerRefusalError['code'], message: string) => new PeerRefusalError(code, message, details)

  // X509-SVID §4.1: a leaf SVID has cA false.
  if (certificate.ca) throw refuse('ERR_PEER_CA', 'the peer certificate is a CA certificate (basicConstraints CA:TRUE), not a workload certificate')
  // X509-SVID §4.4: leaf SVIDs carry serverAuth and clientAuth; the one this connection needs must be there.
  const usages = certificate.keyUsage as string[] | undefined
  if (usages === undefined) throw refuse('ERR_PEER_PURPOSE', `the peer certificate has no extended key usage; ${requirements.purpose} is required`)
  if (!usages.includes(EXTENDED_KEY_USAGE[requirements.purpose])) {
    throw refuse('ERR_PEER_PURPOSE', `the peer certificate is not for ${requirements.purpose} (extended key usage ${usages.join(', ')})`)
  }
  // X509-SVID §2: exactly one URI SAN, the SPIFFE ID.
  if (uris.length !== 1) throw refuse('ERR_PEER_SAN', `the peer certificate must name exactly one URI (its SPIFFE ID), not ${uris.length}`)
  const id = parseSpiffeId(uris[0]!)
  if (typeof id === 'string') throw refuse('ERR_PEER_SAN', `the peer certificate's URI SAN is not a SPIFFE ID: ${id}`)
  if (id.path === '') throw refuse('ERR_PEER_SAN', `the peer certificate names the trust domain ${id.uri}, not a workload`)
  if (id.trustDomain !== requirements.trustDomain) {
    throw refuse('ERR_PEER_TRUST_DOMAIN', `${id.uri} is not in trust domain ${requirements.trustDomain}`)
  }
  if (!requirements.allow(id)) throw refuse('ERR_PEER_NOT_ALLOWED', `${id.uri} is not allowed${known.route === undefined ? '' : ` on ${known.route}`}`)
  return id
}
