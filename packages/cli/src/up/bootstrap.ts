import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  loadConfig,
  openStore,
  registerUser,
  resolveKeyEncryptionKey,
  type AuthServerConfig,
  type ClientInput,
} from '@meshguard/auth-server'
import { demoCallers, grpcPlan, httpServices, meshRegistrations, type ClientRegistration } from '@meshguard/examples'
import { nowSeconds } from '../runtime.js'
import { DEMO_CALLER, GATEWAY, workloadNames } from './mesh-configs.js'
import { TRUST_DOMAIN, type MeshLayout } from './mesh-layout.js'
import { applyRegistrations } from './registrations.js'
import { ensureWorkloadCertificates } from './workload-certificates.js'

/** The demo's people: a user for the sign-in pages and an administrator for the console. */
export const DEMO_USER = 'alice'
export const DEMO_ADMIN = 'admin'
/** Confidential clients holding every edge scope, one per token format. */
export const EDGE_CLIENTS = { jwt: 'demo-client', reference: 'demo-client-opaque' } as const
export const WEB_CLIENT = 'demo-web'

export interface Bootstrapped {
  config: Readonly<AuthServerConfig>
  secrets: Record<string, string>
  passwords: Record<string, string>
  clients: ClientInput[]
  reissued: string[]
}

/**
 * Everything the mesh needs before a process starts, created on the first start and reused
 * after: the authorization server's configuration, the CA and workload certificates, the
 * resource servers and clients of the tier, the demo's users.
 */
export async function bootstrap(layout: MeshLayout): Promise<Bootstrapped> {
  writeJson(layout.files.authServerConfig, authServerConfig(layout))
  const config = loadConfig({ file: layout.files.authServerConfig })
  const store = await openStore(config)
  try {
    const passphrase = resolveKeyEncryptionKey(config).key.toString('base64url')
    const reissued = await ensureWorkloadCertificates(layout, store, passphrase, workloadNames())
    const { resourceServers, serviceClients } = meshRegistrations({ tier: layout.tier, trustDomain: TRUST_DOMAIN, spiffeIdOf: (_domain, name) => layout.workload(name).spiffeId })
    const clients = clientsOf(layout, serviceClients)
    const secrets = await applyRegistrations(
      store,
      { resourceServers: [...resourceServers, { id: grpcPlan.name, scopes: [...grpcPlan.scopes] }], clients },
      layout.files.secrets,
      nowSeconds(),
    )
    const passwords = await ensureUsers(layout, store)
    return { config, secrets, passwords, clients, reissued }
  } finally {
    await store.close()
  }
}

function authServerConfig(layout: MeshLayout): Record<string, unknown> {
  const { certFile, keyFile } = layout.workload('auth-server')
  return {
    issuer: layout.issuer,
    host: '127.0.0.1',
    port: Number(new URL(layout.issuer).port),
    dataDir: layout.dataDir,
    tier: layout.tier,
    ...(layout.tier !== 'low' && {
      mtls: { port: Number(new URL(layout.mtlsOrigin).port), origin: layout.mtlsOrigin, certFile, keyFile, caFile: layout.caBundle },
    }),
  }
}

/** The services' clients from the mesh plan, then the gRPC process's, the demo's callers, the edge clients, the gateway and the browser client. */
function clientsOf(layout: MeshLayout, serviceClients: readonly ClientRegistration[]): ClientInput[] {
  // Every scope a route of the gateway or a gRPC method requires.
  const edgeScopes = [...new Set([...httpServices.flatMap((plan) => plan.scopes), ...grpcPlan.scopes])]
  const shopper = demoCallers.find((caller) => caller.mayAct !== undefined)
  const edge = (id: string, tokenFormat: 'jwt' | 'reference'): ClientInput => ({
    id,
    scopes: edgeScopes,
    grantTypes: ['client_credentials'],
    tokenFormat,
    ...(shopper?.mayAct !== undefined && { mayAct: shopper.mayAct }),
  })
  return [
    ...serviceClients.map((client) => ({ ...client, scopes: [...client.scopes], grantTypes: [...client.grantTypes] })),
    {
      id: grpcPlan.name,
      scopes: [],
      grantTypes: [],
      ...(layout.tier === 'high' && { tlsClientAuthSanUri: layout.workload(grpcPlan.name).spiffeId }),
    },
    ...demoCallers.map((caller) => ({ id: caller.id, scopes: [...caller.scopes], grantTypes: ['client_credentials'], ...(caller.mayAct !== undefined && { mayAct: caller.mayAct }) })),
    edge(EDGE_CLIENTS.jwt, 'jwt'),
    edge(EDGE_CLIENTS.reference, 'reference'),
    { id: GATEWAY, scopes: [], grantTypes: [], phantomTokens: true },
    {
      id: WEB_CLIENT,
      type: 'web',
      scopes: ['openid', 'profile', 'email', 'offline_access', 'a.r'],
      redirectUris: [layout.webRedirectUri],
      postLogoutRedirectUris: [new URL(layout.webRedirectUri).origin + '/'],
    },
    { id: DEMO_CALLER, scopes: [], grantTypes: [] },
  ]
}

/** Creates the demo user and the console's administrator once; their passwords are kept beside the secrets. */
async function ensureUsers(layout: MeshLayout, store: Awaited<ReturnType<typeof openStore>>): Promise<Record<string, string>> {
  const file = layout.files.secrets.replace(/secrets\.json$/, 'passwords.json')
  const passwords: Record<string, string> = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {}
  for (const [username, admin] of [[DEMO_USER, false], [DEMO_ADMIN, true]] as const) {
    if (passwords[username] !== undefined && (await store.getUserByUsername(username))) continue
    if (await store.getUserByUsername(username)) await store.deleteUser(username, nowSeconds())
    const password = randomBytes(12).toString('base64url')
    await registerUser(store, { username, password, name: username === DEMO_USER ? 'Alice Example' : 'Mesh Administrator', email: `${username}@example.com`, ...(admin && { admin }) }, nowSeconds())
    passwords[username] = password
  }
  writeJson(file, passwords, 0o600)
  return passwords
}

export function writeJson(file: string, value: unknown, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode })
}
