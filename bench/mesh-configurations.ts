import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { callersOf, grpcPlan, httpServices, inStartOrder, type ServiceRuntimeConfig, type UnsecuredHttpServiceConfig } from '@meshguard/examples'
import type { SecurityTier } from '@meshguard/service-kit/tls'
import type { MeshAuthTarget, MeshIssuer } from './mesh-auth-server.js'
import type { MeshServiceTarget } from './mesh-service.js'
import { AUTH_SERVER, DEMO_CALLER, GATEWAY, type MeshWorkloads } from './mesh-workloads.js'
import { startServerProcess, type ServerProcess } from './server-process.js'

/** The three tiers, and the same services with security switched off. */
export type MeshConfiguration = 'off' | SecurityTier

export const MESH_CONFIGURATIONS: readonly MeshConfiguration[] = ['off', 'low', 'medium', 'high']

/** Seed 004's services: api-a calls api-b (which calls api-d) and api-c. */
export const SEED_004_SERVICES: readonly string[] = ['api-a', 'api-b', 'api-c', 'api-d']

const SERVICE_ENTRY = new URL('./mesh-service.js', import.meta.url)

/** What every configuration is made from. */
export interface MeshSetup {
  workloads: MeshWorkloads
  auth: MeshAuthTarget
  /** Whether the tiers' services report their calls to the authorization server, as `meshguard up` sets them up. */
  callReports: boolean
  /** Where the configuration files are written. */
  dir: string
  /** Set: each service process writes a CPU profile there when it stops. */
  cpuProfileDir?: string | undefined
  /** Each service process writes `/tmp/perf-<pid>.map` (Node's `--perf-basic-prof`), so that `perf` names its JavaScript functions. */
  perfMap?: boolean | undefined
}

/** One configuration's processes: seed 004's four HTTP services and the gRPC process. */
export interface RunningMesh {
  readonly configuration: MeshConfiguration
  /** api-a's base URL. */
  readonly apiA: string
  /** The gRPC process's `host:port`. */
  readonly grpc: string
  /** The HTTP services' processes, by name. */
  readonly http: ReadonlyMap<string, ServerProcess<MeshServiceTarget>>
  readonly grpcProcess: ServerProcess<MeshServiceTarget>
  stop(): Promise<void>
}

/**
 * Starts one configuration, each service in its own process (mesh-service.ts), each after the
 * peers it calls, with the configuration `meshguard up` writes for its tier
 * (packages/cli/src/up/mesh-configs.ts): the tier's transport, workload certificates and SPIFFE
 * IDs, the token endpoint (the mutual-TLS listener on the high tier), the audit endpoint when
 * `callReports`, and on the high tier the allowed callers: each service's callers and the gateway
 * (the gRPC process: `demo-caller`). `off` is given addresses alone.
 */
export async function startMesh(configuration: MeshConfiguration, setup: MeshSetup): Promise<RunningMesh> {
  const started: Array<ServerProcess<MeshServiceTarget>> = []
  const stop = async () => {
    for (const service of started.reverse()) await service.stop()
  }
  try {
    const http = new Map<string, ServerProcess<MeshServiceTarget>>()
    const plans = inStartOrder(httpServices.filter((plan) => SEED_004_SERVICES.includes(plan.name)))
    for (const plan of plans) {
      const peers = Object.fromEntries(plan.peers.map((peer) => [peer, http.get(peer)!.target.address]))
      const service = await startService(configuration, plan.name, peers, setup)
      started.push(service)
      http.set(plan.name, service)
    }
    const grpcProcess = await startService(configuration, grpcPlan.name, {}, setup)
    started.push(grpcProcess)
    return { configuration, apiA: http.get('api-a')!.target.address, grpc: grpcProcess.target.address, http, grpcProcess, stop }
  } catch (err) {
    await stop().catch(() => undefined)
    throw err
  }
}

async function startService(configuration: MeshConfiguration, name: string, peers: Record<string, string>, setup: MeshSetup): Promise<ServerProcess<MeshServiceTarget>> {
  const file = join(setup.dir, `${configuration}-${name}.json`)
  const config =
    configuration === 'off'
      ? ({ name, host: '127.0.0.1', port: 0, peers: Object.fromEntries(Object.entries(peers).map(([peer, url]) => [peer, { url }])) } satisfies UnsecuredHttpServiceConfig)
      : tierConfig(configuration, name, peers, setup)
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
  const execArgv = [
    ...(setup.cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', setup.cpuProfileDir, '--cpu-prof-name', `mesh-${configuration}-${name}.cpuprofile`]),
    ...(setup.perfMap === true ? ['--perf-basic-prof'] : []),
  ]
  return startServerProcess<MeshServiceTarget>(SERVICE_ENTRY, { args: [configuration === 'off' ? 'off' : 'tier', file], execArgv })
}

function tierConfig(tier: SecurityTier, name: string, peers: Record<string, string>, setup: MeshSetup): ServiceRuntimeConfig {
  const { workloads } = setup
  const auth: MeshIssuer = tier === 'high' ? setup.auth.certificateClients : setup.auth.secretClients
  const auditUri = tier === 'high' ? auth.mtlsAuditUri : auth.auditUri
  const allowed = name === grpcPlan.name ? [DEMO_CALLER] : [...callersOf(name), GATEWAY]
  return {
    name,
    tier,
    host: '127.0.0.1',
    port: 0,
    issuer: auth.issuer,
    jwksUri: auth.jwksUri,
    revocationEventsUri: auth.revocationEventsUri,
    tokenEndpoint: tier === 'high' ? auth.mtlsTokenEndpoint! : auth.tokenEndpoint,
    ...(setup.callReports && { auditUri }),
    ...(tier !== 'high' && { clientSecret: auth.secrets[name] }),
    ...(tier !== 'low' && { tls: workloads.files(name), spiffeId: workloads.spiffeId(name) }),
    ...(tier === 'high' && { authServerSpiffeId: workloads.spiffeId(AUTH_SERVER), allowedCallers: allowed.map((workload) => workloads.spiffeId(workload)) }),
    peers: Object.fromEntries(Object.entries(peers).map(([peer, url]) => [peer, { url, ...(tier !== 'low' && { spiffeId: workloads.spiffeId(peer) }) }])),
  }
}
