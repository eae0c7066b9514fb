/** `<data dir>/demo.json`: what scripts need to drive the running mesh. Field names follow OAuth's. */
export interface DemoFile {
  tier: 'low' | 'medium' | 'high'
  issuer: string
  gateway: string
  console: string
  admin: { username: string; password: string }
  caBundle: string
  clients: DemoClient[]
  users: Array<{ username: string; password: string }>
  services: DemoService[]
  grpc: {
    address: string
    /** The SPIFFE ID the gRPC server's certificate names (medium and high tiers). */
    spiffeId: string
    protoDir: string
    services: string[]
    clientCert: string
    clientKey: string
  }
}

export interface DemoClient {
  client_id: string
  client_secret?: string | undefined
  type: 'service' | 'web' | 'spa' | 'native'
  scope: string
  token_format: 'jwt' | 'reference'
  redirect_uris?: string[] | undefined
}

export interface DemoService {
  name: string
  url: string
  spiffeId: string
  scopes: string[]
  route: string
  /** The delegation chain its example requires (RFC 8693 `act`, most recent actor first): a direct call is refused. Empty for the others. */
  reachedVia: string[]
  example: { method: string; path: string; internalPath: string; body?: unknown }
}
