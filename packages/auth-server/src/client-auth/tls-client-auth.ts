import { InvalidClient } from '../errors.js'
import type { ClientAuthMethod } from './context.js'

/** Unknown client, client of another method and certificate of another workload get the same answer. */
const FAILED = 'client authentication failed'

/**
 * RFC 8705 §2.1: PKI mutual-TLS client authentication. On the mutual-TLS listener, the client
 * names itself with `client_id` (§2) and presents a certificate that chains to the trust bundle,
 * is not revoked, and whose one URI SAN is the SPIFFE ID it registered as
 * `tls_client_auth_san_uri` (§2.1.2). Tokens issued on it are bound to that certificate (§3).
 */
export const tlsClientAuth: ClientAuthMethod = {
  name: 'tls_client_auth',
  present: ({ clientCertificate, params }) => clientCertificate !== undefined && params.has('client_id'),
  async authenticate({ clientCertificate, params }, { directory }) {
    if (!clientCertificate?.verified) throw new InvalidClient('the client certificate did not verify against the trust bundle')
    const client = await directory.getClient(params.require('client_id'))
    const [uri, ...others] = clientCertificate.uris
    if (!client?.tlsClientAuthSanUri || others.length > 0 || uri !== client.tlsClientAuthSanUri) throw new InvalidClient(FAILED)
    return { client, confirmation: { 'x5t#S256': clientCertificate.thumbprint } }
  },
}
