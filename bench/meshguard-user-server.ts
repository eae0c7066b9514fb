/**
 * Meshguard's authorization server for the user-grants benchmark: SQLite in a temporary data
 * directory, ES256, 600 s access tokens, silent logs; one resource server, one confidential web
 * client, one user signed in to one session. Mints authorization codes when the parent asks,
 * through `issueAuthorizationCode`, as `/authorize` does once the user has consented.
 * Started by user-grants.js, which it tells where it listens.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createAuthServer,
  endpointPaths,
  issueAuthorizationCode,
  parseConfig,
  registerClient,
  registerResourceServer,
  registerUser,
  type CodeRequest,
} from '@meshguard/auth-server'
import { basicAuthorization, serveBench } from './server-process.js'
import { isMintCodes, pkcePair, WEB_CLIENT, type MintedCodes, type UserGrantTarget } from './user-grant-target.js'

const RESOURCE_SERVER = 'bench-api'

const dataDir = await mkdtemp(join(tmpdir(), 'meshguard-bench-'))
const config = parseConfig({
  port: 0,
  dataDir,
  keyEncryptionKey: randomBytes(32).toString('base64url'),
  log: { level: 'silent' },
  tokens: { accessTokenTtlSec: 600 },
  // The longest RFC 6749 §4.1.2 allows: a batch of codes is minted before the run that redeems it.
  authorization: { codeTtlSec: 600 },
})
const server = await createAuthServer(config)
const { store } = server.context
const now = Math.floor(Date.now() / 1000)
await registerResourceServer(store, { id: RESOURCE_SERVER, scopes: ['bench.read'] }, now)
const { client, secret } = await registerClient(
  store,
  { id: WEB_CLIENT.id, type: 'web', scopes: [...WEB_CLIENT.scopes], redirectUris: [WEB_CLIENT.redirectUri] },
  now,
)
const user = await registerUser(store, { username: 'bench-user', password: randomBytes(24).toString('base64url') }, now)
// A signed-in browser, as `submitLogin` records it; each code's grant is bound to it.
const session: CodeRequest['session'] = {
  idHash: createHash('sha256').update(randomBytes(32)).digest('base64url'),
  userId: user.id,
  authTime: now,
  csrfToken: randomBytes(16).toString('base64url'),
  createdAt: now,
  expiresAt: now + config.authorization.sessionTtlSec,
}
await store.createSession(session)
const issuer = await server.listen()

const pkce = pkcePair()
// What `parseAuthorizationRequest` makes of `/authorize?response_type=code&scope=openid bench.read&code_challenge_method=S256&...`,
// with the audience its API scope resolves to.
const request: CodeRequest['request'] = {
  clientId: client.id,
  redirectUri: WEB_CLIENT.redirectUri,
  scopes: [...WEB_CLIENT.scopes],
  resources: [],
  nonce: WEB_CLIENT.nonce,
  codeChallenge: pkce.challenge,
  prompt: [],
  audience: [RESOURCE_SERVER],
}

serveBench<UserGrantTarget>(
  {
    tokenUrl: `${issuer}${endpointPaths.token}`,
    authorization: basicAuthorization(client.id, secret!),
    codeVerifier: pkce.verifier,
  },
  async () => {
    await server.close()
    await rm(dataDir, { recursive: true, force: true })
  },
  {
    answer: async (question): Promise<MintedCodes> => {
      if (!isMintCodes(question)) throw new TypeError(`unknown question ${JSON.stringify(question)}`)
      const codes: string[] = []
      for (let i = 0; i < question.count; i += 1) {
        codes.push((await issueAuthorizationCode(server.context, { client, request, session, user })).code)
      }
      return { codes }
    },
  },
)
