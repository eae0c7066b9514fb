/**
 * The authorization server of the mesh benchmark, in its own process: two Meshguard
 * authorization servers, each with its own SQLite data directory and defaults otherwise
 * (`log.level: 'silent'`, port 0). A service's client is named after the service and
 * authenticates with one credential, a secret on the low and medium tiers and its certificate
 * (`tls_client_auth`) on the high tier, so one server cannot hold the clients of every tier: the
 * first serves the low and medium meshes, the second, with a mutual-TLS listener, the high mesh.
 * Each registers what `meshguard up` registers for its tier (`meshRegistrations`), with the gRPC
 * process's resource server and client, and `demo-client`, an edge caller holding the gRPC scopes.
 *
 * Started by mesh-tiers.js with the auth server's TLS files as JSON: `{ certFile, keyFile, caFile }`.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAuthServer, endpointPaths, parseConfig, registerClient, registerResourceServer, type ClientInput } from '@meshguard/auth-server'
import { grpcPlan, meshRegistrations, serviceSpiffeId, type WorkloadTlsFiles } from '@meshguard/examples'
import { GRPC_CALLER, MESH_TRUST_DOMAIN } from './mesh-workloads.js'
import { serveBench } from './server-process.js'

/** Where one authorization server answers, and the secrets of the clients it registered. */
export interface MeshIssuer {
  issuer: string
  jwksUri: string
  revocationEventsUri: string
  /** Plain HTTP on loopback: the callers' tokens, and the services' on the low and medium tiers. */
  tokenEndpoint: string
  auditUri: string
  /** The mutual-TLS listener's (high tier only). */
  mtlsTokenEndpoint?: string | undefined
  mtlsAuditUri?: string | undefined
  /** By client id, for the clients that have one. */
  secrets: Record<string, string>
}

/** What the process reports once both servers listen. */
export interface MeshAuthTarget {
  /** For the low and medium meshes: every client with a secret. */
  secretClients: MeshIssuer
  /** For the high mesh: services with `tls_client_auth`, callers with secrets. */
  certificateClients: MeshIssuer
}

const tls = JSON.parse(process.argv[2] ?? '{}') as WorkloadTlsFiles
const dataDirs: string[] = []
const secretClients = await startIssuer('medium')
const certificateClients = await startIssuer('high')

serveBench<MeshAuthTarget>({ secretClients: secretClients.target, certificateClients: certificateClients.target }, async () => {
  await Promise.all([secretClients.close(), certificateClients.close()])
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })))
})

async function startIssuer(tier: 'medium' | 'high'): Promise<{ target: MeshIssuer; close(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshguard-bench-auth-'))
  dataDirs.push(dataDir)
  const config = parseConfig({
    port: 0,
    dataDir,
    keyEncryptionKey: randomBytes(32).toString('base64url'),
    log: { level: 'silent' },
    tier,
    ...(tier === 'high' && { mtls: { port: 0, certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile } }),
  })
  const server = await createAuthServer(config)
  const now = Math.floor(Date.now() / 1000)
  const { resourceServers, serviceClients, callerClients } = meshRegistrations({ tier, trustDomain: MESH_TRUST_DOMAIN })
  for (const resource of [...resourceServers, { id: grpcPlan.name, scopes: grpcPlan.scopes }]) {
    await registerResourceServer(server.context.store, { id: resource.id, scopes: [...resource.scopes] }, now)
  }
  const clients: ClientInput[] = [
    ...serviceClients.map((client) => ({ ...client, scopes: [...client.scopes], grantTypes: [...client.grantTypes] })),
    { id: grpcPlan.name, scopes: [], grantTypes: [], ...(tier === 'high' && { tlsClientAuthSanUri: serviceSpiffeId(MESH_TRUST_DOMAIN, grpcPlan.name) }) },
    ...callerClients.map((client) => ({ ...client, scopes: [...client.scopes], grantTypes: [...client.grantTypes] })),
    { id: GRPC_CALLER, scopes: [...grpcPlan.scopes], grantTypes: ['client_credentials'] },
  ]
  const secrets: Record<string, string> = {}
  for (const client of clients) {
    const { secret } = await registerClient(server.context.store, client, now)
    if (secret !== undefined) secrets[client.id] = secret
  }
  const issuer = await server.listen()
  const base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`
  const mtlsPort = (server.mtls?.app.server.address() as AddressInfo | undefined)?.port
  const mtlsBase = mtlsPort === undefined ? undefined : `https://127.0.0.1:${mtlsPort}`
  return {
    target: {
      issuer,
      jwksUri: `${base}${endpointPaths.jwks}`,
      revocationEventsUri: `${base}${endpointPaths.revocationEvents}`,
      tokenEndpoint: `${base}${endpointPaths.token}`,
      auditUri: `${base}${endpointPaths.auditEvents}`,
      mtlsTokenEndpoint: mtlsBase && `${mtlsBase}${endpointPaths.token}`,
      mtlsAuditUri: mtlsBase && `${mtlsBase}${endpointPaths.auditEvents}`,
      secrets,
    },
    close: () => server.close(),
  }
}
