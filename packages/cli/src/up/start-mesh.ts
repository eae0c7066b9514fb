import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { grpcPlan, httpServiceDefinitions, httpServices } from '@meshguard/examples'
import { bootstrap, DEMO_ADMIN, DEMO_USER, EDGE_CLIENTS, writeJson } from './bootstrap.js'
import type { DemoFile } from './demo-file.js'
import { gatewayConfig } from './gateway-config.js'
import { DEMO_CALLER, GATEWAY, plannedServices } from './mesh-configs.js'
import { meshLayout, type MeshLayout, type Tier } from './mesh-layout.js'
import { Supervisor } from './supervisor.js'

export interface MeshOptions {
  dataDir: string
  portBase: number
  tier: Tier
  /** Progress and the children's log lines. */
  log: (line: string) => void
}

export interface RunningMesh {
  layout: MeshLayout
  demo: DemoFile
  supervisor: Supervisor
  stop(): Promise<void>
}

const CLI_MAIN = fileURLToPath(new URL('../main.js', import.meta.url))
const RUN_SERVICE = join(dirname(fileURLToPath(import.meta.resolve('@meshguard/examples'))), 'run-service.js')

/**
 * Brings the demo mesh up: bootstraps the data directory, then starts the authorization server,
 * every service (callees before callers) and the gateway as supervised child processes, and
 * writes `demo.json` once all are ready.
 */
export async function startMesh(options: MeshOptions): Promise<RunningMesh> {
  const layout = meshLayout(options.dataDir, options.portBase, options.tier)
  const step = (text: string) => {
    options.log(`meshguard up: ${text}`)
  }
  step(`preparing ${layout.dataDir} for the ${layout.tier} tier`)
  const { secrets, passwords, clients, reissued } = await bootstrap(layout)
  if (reissued.length > 0) step(`issued workload certificates: ${reissued.join(', ')}`)
  const services = plannedServices(layout, secrets)
  for (const service of services) writeJson(layout.files.serviceConfig(service.name), service.config, 0o600)
  const routes = services.flatMap((service) =>
    service.plan ? [{ name: service.name, route: service.plan.route, url: service.address, spiffeId: layout.workload(service.name).spiffeId }] : [],
  )
  writeJson(layout.files.gatewayConfig, gatewayConfig(layout, routes, secrets[GATEWAY]!), 0o600)

  // For operators and tests: which process is which.
  const supervisor = new Supervisor({ log: options.log, onSpawn: (pids) => {
      writeJson(join(layout.dataDir, 'mesh', 'pids.json'), pids)
    } })
  try {
    step('starting the authorization server')
    await supervisor.start({ name: 'auth-server', args: [CLI_MAIN, 'auth-server', '--config', layout.files.authServerConfig, '--data-dir', layout.dataDir], readyWhen: /authorization server listening/ })
    for (const service of services) {
      step(`starting ${service.name}`)
      await supervisor.start({ name: service.name, args: [RUN_SERVICE, layout.files.serviceConfig(service.name)], readyWhen: /listening/ })
    }
    step('starting the gateway')
    const gateway = layout.workload(GATEWAY)
    const identity = layout.tier === 'low' ? [] : ['--identity-cert', gateway.certFile, '--identity-key', gateway.keyFile, '--identity-bundle', layout.caBundle]
    await supervisor.start({ name: 'gateway', args: [CLI_MAIN, 'gateway', '--config', layout.files.gatewayConfig, ...identity], readyWhen: /gateway listening/ })
  } catch (err) {
    await supervisor.stopAll()
    throw err
  }

  const demo: DemoFile = {
    tier: layout.tier,
    issuer: layout.issuer,
    gateway: layout.gatewayUrl,
    console: `${layout.issuer}/console`,
    admin: { username: DEMO_ADMIN, password: passwords[DEMO_ADMIN]! },
    caBundle: layout.caBundle,
    clients: clients
      .filter((client) => !services.some((service) => service.name === client.id) && client.id !== GATEWAY && client.id !== DEMO_CALLER)
      .map((client) => ({
        client_id: client.id,
        ...(secrets[client.id] !== undefined && { client_secret: secrets[client.id] }),
        type: client.type ?? 'service',
        scope: client.scopes.join(' '),
        token_format: client.tokenFormat ?? 'jwt',
        ...(client.redirectUris && { redirect_uris: [...client.redirectUris] }),
      })),
    users: [{ username: DEMO_USER, password: passwords[DEMO_USER]! }],
    services: [...services].sort((a, b) => order(a.name) - order(b.name)).flatMap((service) =>
      service.plan
        ? [
            {
              name: service.name,
              url: service.address,
              spiffeId: layout.workload(service.name).spiffeId,
              scopes: [...service.plan.scopes],
              route: service.plan.route,
              reachedVia: requiredChain(service.name, service.plan.example),
              example: { ...service.plan.example },
            },
          ]
        : [],
    ),
    grpc: {
      address: layout.grpcAddress,
      spiffeId: layout.workload(grpcPlan.name).spiffeId,
      protoDir: grpcPlan.protoDir,
      services: [...grpcPlan.services],
      clientCert: layout.workload(DEMO_CALLER).certFile,
      clientKey: layout.workload(DEMO_CALLER).keyFile,
    },
  }
  writeJson(layout.files.demo, demo, 0o600)
  return { layout, demo, supervisor, stop: () => supervisor.stopAll() }
}

/**
 * The delegation chain a service's example operation requires (`x-meshguard-chain`, most recent
 * actor first): it accepts the call only through those services, so a direct call is refused.
 */
function requiredChain(name: string, example: { method: string; internalPath: string }): string[] {
  const definition = httpServiceDefinitions[name]
  const operations = definition?.openApi.paths[example.internalPath] as Record<string, Record<string, unknown>> | undefined
  const chain = operations?.[example.method.toLowerCase()]?.['x-meshguard-chain']
  return Array.isArray(chain) ? chain.map(String) : []
}

/** Services in the plan's order (they start callees first). */
function order(name: string): number {
  return httpServices.findIndex((plan) => plan.name === name)
}

/** The few lines a person needs to start using the mesh. */
export function summary(demo: DemoFile, demoFile: string): string {
  const client = demo.clients.find((candidate) => candidate.client_id === EDGE_CLIENTS.jwt)!
  const first = demo.services[0]!
  const users = demo.users.map((user) => `${user.username} / ${user.password}`).join(', ')
  return [
    '',
    `Meshguard demo mesh is up (${demo.tier} tier).`,
    `  issuer   ${demo.issuer}`,
    `  gateway  ${demo.gateway}`,
    `  console  ${demo.console}   (${demo.admin.username} / ${demo.admin.password})`,
    `  user     ${users}   (sign-in pages at ${demo.issuer}/oauth2/authorize)`,
    `  gRPC     ${demo.grpc.address}   (protos in ${demo.grpc.protoDir})`,
    `  services ${demo.services.map((service) => `${service.name} ${service.route}`).join(', ')}`,
    '',
    'Try it:',
    `  TOKEN=$(curl -s -u ${client.client_id}:${client.client_secret ?? ''} -d grant_type=client_credentials ${demo.issuer}/oauth2/token | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
    `  curl -H "Authorization: Bearer $TOKEN" ${demo.gateway}${first.example.path}`,
    '  npx meshguard demo traffic --seconds 20',
    '',
    `Everything scripts need is in ${demoFile}. Ctrl-C stops the mesh.`,
    '',
  ].join('\n')
}
