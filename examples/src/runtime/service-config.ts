import type { SecurityTier } from '@meshguard/service-kit/tls'

/**
 * What `meshguard up` hands each demo service: where it listens, who issues its tokens, its own
 * credentials, and where its peers are. Written to `<data dir>/mesh/<name>.json` and read by
 * `run-service.ts`; the same object when a test starts a service in-process.
 */
export interface ServiceRuntimeConfig {
  /** The service's name: also its resource server id (the `aud` of tokens for it) and its client id. */
  name: string
  tier: SecurityTier
  host: string
  /** 0 picks a free port. */
  port: number
  issuer: string
  jwksUri: string
  /** The auth server's revocation stream, so a revoked token stops working within a second. */
  revocationEventsUri: string
  /** Where this service gets its own client-credentials and exchanged tokens. On the high tier, the auth server's mutual-TLS listener. */
  tokenEndpoint: string
  /** Its client secret; absent on the high tier, where it authenticates with its certificate (`tls_client_auth`). */
  clientSecret?: string | undefined
  /** Its workload identity (medium and high): certificate chain, key and the mesh's trust bundle, PEM files. */
  tls?: WorkloadTlsFiles | undefined
  /** The SPIFFE ID its certificate names (medium and high). */
  spiffeId?: string | undefined
  /** Services it calls, by name. */
  peers: Readonly<Record<string, PeerEndpoint>>
  /** Where it reports the calls it makes and refuses, for the console's map; optional. */
  auditUri?: string | undefined
  /**
   * The SPIFFE IDs that may connect to it at all (high tier): the services that call it
   * (`callersOf` in the mesh plan) and the gateway.
   */
  allowedCallers?: readonly string[] | undefined
  /**
   * The SPIFFE ID of the authorization server's TLS listener: on the high tier the mutual-TLS
   * one its tokens and call reports go to; on the medium tier when `tokenEndpoint` is https.
   */
  authServerSpiffeId?: string | undefined
}

export interface WorkloadTlsFiles {
  certFile: string
  keyFile: string
  caFile: string
}

export interface PeerEndpoint {
  /** `http://` on the low tier, `https://` above. */
  url: string
  /** The SPIFFE ID the peer's certificate must name (medium and high). */
  spiffeId?: string | undefined
}

/** A started service, for the supervisor and tests. */
export interface RunningService {
  readonly name: string
  /** Its base URL (HTTP services) or `host:port` (gRPC). */
  readonly address: string
  close(): Promise<void>
}
