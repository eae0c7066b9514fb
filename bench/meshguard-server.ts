/**
 * Meshguard's authorization server for the benchmark: SQLite in a temporary data directory,
 * ES256 (the default), 600 s access tokens, silent logs, one resource server and one client.
 * Started by token-endpoint.js, which it tells where it listens.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAuthServer, endpointPaths, parseConfig, registerClient, registerResourceServer } from '@meshguard/auth-server'
import { basicAuthorization, serveBench } from './server-process.js'

const dataDir = await mkdtemp(join(tmpdir(), 'meshguard-bench-'))
const config = parseConfig({
  port: 0,
  dataDir,
  keyEncryptionKey: randomBytes(32).toString('base64url'),
  log: { level: 'silent' },
  tokens: { accessTokenTtlSec: 600 },
})
const server = await createAuthServer(config)
const now = Math.floor(Date.now() / 1000)
await registerResourceServer(server.context.store, { id: 'bench-api', scopes: ['bench.read'] }, now)
const { secret } = await registerClient(server.context.store, { id: 'bench-client', scopes: ['bench.read'] }, now)
const issuer = await server.listen()

serveBench(
  {
    tokenUrl: `${issuer}${endpointPaths.token}`,
    introspectionUrl: `${issuer}${endpointPaths.introspection}`,
    authorization: basicAuthorization('bench-client', secret!),
    tokenRequest: new URLSearchParams({ grant_type: 'client_credentials', scope: 'bench.read' }).toString(),
  },
  async () => {
    await server.close()
    await rm(dataDir, { recursive: true, force: true })
  },
)
