/**
 * panva's oidc-provider, set up for the same job as Meshguard in the user-grants benchmark: a
 * confidential web client with client_secret_basic, the authorization code grant with PKCE S256,
 * refresh tokens rotated on every use, ES256 JWT access tokens for one resource server (600 s)
 * and ES256 ID tokens. Mints authorization codes when the parent asks, through its own models,
 * as its authorization endpoint does once the user has consented.
 * Started by user-grants.js, which it tells where it listens.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Provider, errors } from 'oidc-provider'
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js'
import LRU from 'oidc-provider/lib/helpers/lru.js'
import { basicAuthorization, serveBench } from './server-process.js'
import { isMintCodes, pkcePair, WEB_CLIENT, type MintedCodes, type UserGrantTarget } from './user-grant-target.js'

/** Resource indicators (RFC 8707) must be absolute URIs. */
const RESOURCE = 'urn:meshguard-bench:bench-api'
const ACCOUNT_ID = 'bench-user'
/** Its in-memory adapter's default store keeps only the 1,000 to 2,000 most recent entries: too few for a batch of codes. */
const STORE_ENTRIES = 10_000_000

const secret = randomBytes(32).toString('base64url')
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' }

const http = createServer()
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`

const storage = new LRU({ maxSize: STORE_ENTRIES })
const provider = new Provider(issuer, {
  // Its default in-memory adapter, over a store with room for every code of a run.
  adapter: (model: string) => new MemoryAdapter(model, storage),
  clients: [
    {
      client_id: WEB_CLIENT.id,
      client_secret: secret,
      application_type: 'web',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [WEB_CLIENT.redirectUri],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: WEB_CLIENT.scopes.join(' '),
      // The provider's only key is ES256; the client metadata default (RS256) would have none.
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [signingKey] },
  scopes: ['openid', 'bench.read'],
  findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
  // Meshguard's rule: a refresh token whenever the client may refresh. oidc-provider's default
  // also asks for the `offline_access` scope.
  issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(grant: string): boolean }) => client.grantTypeAllowed('refresh_token'),
  // Meshguard rotates on every use; oidc-provider's default only past 70% of the token's lifetime.
  rotateRefreshToken: true,
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 600,
    IdToken: 3600,
    Grant: 14 * 86_400,
    RefreshToken: 14 * 86_400,
  },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      // A code or refresh token with `openid` would otherwise get a token for `/userinfo` only.
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx: unknown, resource: string) => {
        if (resource !== RESOURCE) throw new errors.InvalidTarget(`unknown resource ${resource}`)
        return { scope: 'bench.read', audience: 'bench-api', accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }
      },
    },
  },
})
http.on('request', provider.callback())

const pkce = pkcePair()
const client = await provider.Client.find(WEB_CLIENT.id)
if (client === undefined) throw new Error(`oidc-provider does not know client ${WEB_CLIENT.id}`)

/** What its authorization endpoint stores for a consented request: a grant, then the code. */
async function mintCode(): Promise<string> {
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: client!.clientId })
  grant.addOIDCScope('openid')
  grant.addResourceScope(RESOURCE, 'bench.read')
  const grantId = await grant.save()
  return new provider.AuthorizationCode({
    accountId: ACCOUNT_ID,
    authTime: Math.floor(Date.now() / 1000),
    client: client!,
    grantId,
    scope: WEB_CLIENT.scopes.join(' '),
    resource: RESOURCE,
    redirectUri: WEB_CLIENT.redirectUri,
    codeChallenge: pkce.challenge,
    codeChallengeMethod: 'S256',
    nonce: WEB_CLIENT.nonce,
  }).save()
}

serveBench<UserGrantTarget>(
  {
    tokenUrl: `${issuer}/token`,
    authorization: basicAuthorization(WEB_CLIENT.id, secret),
    codeVerifier: pkce.verifier,
  },
  () =>
    new Promise<void>((resolve, reject) => {
      http.close((err) => { if (err) reject(err); else resolve() })
      http.closeAllConnections()
    }),
  {
    answer: async (question): Promise<MintedCodes> => {
      if (!isMintCodes(question)) throw new TypeError(`unknown question ${JSON.stringify(question)}`)
      const codes: string[] = []
      for (let i = 0; i < question.count; i += 1) codes.push(await mintCode())
      return { codes }
    },
  },
)
