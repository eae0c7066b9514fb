import { measureFeed, type FeedLoadResult } from './measure-grpc-feed.js'
import { measureSteadyLoad, type SteadyLoadResult } from './measure-steady-load.js'
import type { MeshAuthTarget } from './mesh-auth-server.js'
import { summaryHeaders } from './mesh-checks.js'
import type { MeshClients } from './mesh-clients.js'
import { SEED_004_SERVICES, type RunningMesh } from './mesh-configurations.js'
import { GroupSampler, readingConnection, summaryConnection } from './mesh-load.js'
import { GRPC_CALLER } from './mesh-workloads.js'
import type { ServerProcess } from './server-process.js'

/** How long and how hard each run loads its configuration. */
export interface MeshRunSettings {
  warmupSec: number
  feedWarmupSec: number
  durationSec: number
  /** HTTP requests under way. */
  connections: number
  grpcDurationSec: number
  grpcConnections: number
  /** GetReading calls under way per connection. */
  grpcStreams: number
  feedStreams: number
  feedChannels: number
  feedIntervalMs: number
}

/** One configuration loaded: its processes, the authorization server's, and the clients. */
export interface MeshRunTarget {
  mesh: RunningMesh
  auth: ServerProcess<MeshAuthTarget>
  clients: MeshClients
  settings: MeshRunSettings
}

export interface HttpRun extends SteadyLoadResult {
  /** CPU µs of each of seed 004's services over the measured run, in `SEED_004_SERVICES` order. */
  serviceCpuMicros: number[]
  authCpuMicros: number
}

export interface GrpcRun<R> {
  result: R
  /** CPU µs of the gRPC process over the measured run. */
  serviceCpuMicros: number
  authCpuMicros: number
}

/** `GET /summary` on api-a with `demo-reader`'s `a.r` token (none for off); every answer must be `expected`. */
export async function measureSummary({ mesh, auth, clients, settings }: MeshRunTarget, expected: string): Promise<HttpRun> {
  const c = mesh.configuration
  const token = c === 'off' ? undefined : await clients.tokens(c, 'demo-reader', 'a.r')
  const dispatcher = clients.http(c, settings.connections)
  const sampler = new GroupSampler([...SEED_004_SERVICES.map((name) => () => mesh.http.get(name)!.sample()), () => auth.sample()])
  try {
    const result = await measureSteadyLoad({
      connect: () => summaryConnection(dispatcher, mesh.apiA, '/summary', summaryHeaders(token), expected),
      connections: 1,
      streams: settings.connections,
      warmupSec: settings.warmupSec,
      durationSec: settings.durationSec,
      sampleServer: sampler.sample,
    })
    const cpu = sampler.lastCpuMicros()
    return { ...result, serviceCpuMicros: cpu.slice(0, SEED_004_SERVICES.length), authCpuMicros: cpu.at(-1)! }
  } finally {
    await dispatcher.close()
  }
}

/** `SensorService/GetReading` calls with `demo-client`'s `sensor.read` token (none for off). */
export async function measureReadings({ mesh, auth, clients, settings }: MeshRunTarget): Promise<GrpcRun<SteadyLoadResult>> {
  const c = mesh.configuration
  const token = c === 'off' ? undefined : await clients.tokens(c, GRPC_CALLER, 'sensor.read')
  const sampler = new GroupSampler([() => mesh.grpcProcess.sample(), () => auth.sample()])
  const result = await measureSteadyLoad({
    connect: () => readingConnection(mesh.grpc, clients.grpc(c), token),
    connections: settings.grpcConnections,
    streams: settings.grpcStreams,
    warmupSec: settings.warmupSec,
    durationSec: settings.grpcDurationSec,
    sampleServer: sampler.sample,
  })
  const [serviceCpuMicros, authCpuMicros] = sampler.lastCpuMicros()
  return { result, serviceCpuMicros: serviceCpuMicros!, authCpuMicros: authCpuMicros! }
}

/** `SensorService/Feed` streams at the shortest interval, opened with `demo-client`'s token (none for off). */
export async function measureFeeds({ mesh, auth, clients, settings }: MeshRunTarget): Promise<GrpcRun<FeedLoadResult>> {
  const c = mesh.configuration
  const token = c === 'off' ? undefined : await clients.tokens(c, GRPC_CALLER, 'sensor.read')
  const sampler = new GroupSampler([() => mesh.grpcProcess.sample(), () => auth.sample()])
  const result = await measureFeed({
    address: mesh.grpc,
    credentials: () => clients.grpc(c),
    token,
    channels: settings.feedChannels,
    streams: settings.feedStreams,
    intervalMs: settings.feedIntervalMs,
    warmupSec: settings.feedWarmupSec,
    durationSec: settings.grpcDurationSec,
    sampleServer: sampler.sample,
  })
  const [serviceCpuMicros, authCpuMicros] = sampler.lastCpuMicros()
  return { result, serviceCpuMicros: serviceCpuMicros!, authCpuMicros: authCpuMicros! }
}
