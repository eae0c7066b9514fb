import type { Clock } from '../clock.js'
import type { AuthServerConfig } from '../config/schema.js'
import type { FormParams } from '../http/form-params.js'
import type { Directory } from '../directory/directory.js'
import type { ClientRecord, Store } from '../store/store.js'
import type { AccessTokenClaims } from '@meshguard/token'

/** The listener a request arrived on: the plain one, or the mutual-TLS one (RFC 8705 §5). */
export type Listener = 'plain' | 'mtls'

/** The certificate a client presented in the TLS handshake of the mutual-TLS listener. */
export interface ClientCertificate {
  /** Whether it verified against the trust bundle, and the CRLs when configured (`socket.authorized`). */
  readonly verified: boolean
  /** Its URI subject alternative names; an X509-SVID has exactly one, its SPIFFE ID. */
  readonly uris: readonly string[]
  /** RFC 8705 §3.1 `x5t#S256`: SHA-256 of its DER, base64url without padding. */
  readonly thumbprint: string
}

export interface ClientAuthRequest {
  authorization: string | undefined
  params: FormParams
  listener: Listener
  /** The client certificate, on the mutual-TLS listener when one was presented; undefined otherwise. */
  clientCertificate: ClientCertificate | undefined
  /** The URL the request was sent to, an accepted `aud` of client assertions. */
  endpointUrl: string
}

export interface ClientAuthDeps {
  directory: Pick<Directory, 'getClient'>
  store: Pick<Store, 'consumeAssertionJti'>
  clock: Clock
  issuer: string
  config: Pick<AuthServerConfig, 'clientAssertion' | 'tokens'>
}

/** RFC 8705 §3.1: what binds a token to the certificate its client authenticated with. */
export type CertificateConfirmation = NonNullable<AccessTokenClaims['cnf']>

/** A client that proved who it is. */
export interface AuthenticatedClient {
  readonly client: ClientRecord
  /** Set when the client authenticated with a certificate: tokens issued now are bound to it (RFC 8705 §3). */
  readonly confirmation?: CertificateConfirmation | undefined
}

/** One client authentication method (OpenID Connect Core §9 and RFC 8705 §2 names). */
export interface ClientAuthMethod {
  readonly name: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'tls_client_auth' | 'none'
  /** Whether the request carries this method's credentials. */
  present(request: ClientAuthRequest): boolean
  authenticate(request: ClientAuthRequest, deps: ClientAuthDeps): Promise<AuthenticatedClient>
}
