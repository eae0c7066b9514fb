/**
 * panva's oidc-provider, set up for the same job as Meshguard in the benchmark: the
 * client_credentials grant with client_secret_basic, ES256-signed JWT access tokens for one
 * resource server, 600 s lifetime, and token introspection. Its default in-memory adapter
 * holds state. Started by token-endpoint.js, which it tells where it listens.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Provider, errors } from 'oidc-provider'
import { basicAuthorization, serveBench } from './server-process.js'

/** Resource indicators (RFC 8707) must be absolute URIs. */
const JWT_RESOURCE = 'urn:meshguard-bench:bench-api'
/** The same API with oidc-provider's default opaque token format, which it can introspect. */
const OPAQUE_RESOURCE = 'urn:meshguard-bench:bench-api:opaque'

const resourceServers: ReadonlyMap<string, Record<string, unknown>> = new Map([
  [JWT_RESOURCE, { scope: 'bench.read', audience: 'bench-api', accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }],
  [OPAQUE_RESOURCE, { scope: 'bench.read', audience: 'bench-api', accessTokenTTL: 600, accessTokenFormat: 'opaque' }],
])

const secret = randomBytes(32).toString('base64url')
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' }

const http = createServer()
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'bench-client',
      client_secret: secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'bench.read',
      // The provider's only key is ES256; the client metadata default (RS256) would have none.
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [signingKey] },
  scopes: ['bench.read'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) => token.clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => JWT_RESOURCE,
      getResourceServerInfo: (_ctx: unknown, resource: string) => {
        const info = resourceServers.get(resource)
        if (!info) throw new errors.InvalidTarget(`unknown resource ${resource}`)
        return info
      },
    },
  },
})
http.on('request', provider.callback())

serveBench(
  {
    tokenUrl: `${issuer}/token`,
    introspectionUrl: `${issuer}/token/introspection`,
    authorization: basicAuthorization('bench-client', secret),
    tokenRequest: new URLSearchParams({ grant_type: 'client_credentials', scope: 'bench.read' }).toString(),
    opaqueTokenRequest: new URLSearchParams({ grant_type: 'client_credentials', scope: 'bench.read', resource: OPAQUE_RESOURCE }).toString(),
  },
  () =>
    new Promise<void>((resolve, reject) => {
      http.close((err) => { if (err) reject(err); else resolve() })
      http.closeAllConnections()
    }),
)
