/**
 * Mesh benchmark: what each security tier costs the demo mesh `meshguard up` runs, against the
 * same services with security switched off. Four configurations (off, low, medium, high) of seed
 * 004's api-a → (api-b → api-d, api-c) and of the gRPC process run at once, every service in its
 * own process (mesh-service.ts), the authorization server in one more (mesh-auth-server.ts).
 * The parent loads one configuration at a time, in alternating rounds: `GET /summary` on api-a,
 * then gRPC `SensorService/GetReading` calls, then `SensorService/Feed` streams. Each figure is
 * the median over the rounds; each ratio to off is paired within a round.
 *
 * Usage: node bench/dist/mesh-tiers.js [--duration 5] [--rounds 3] [--connections 32]
 *   [--grpc-duration 4] [--grpc-connections 4] [--grpc-streams 16] [--feed-streams 400]
 *   [--no-call-reports] [--cpu-prof] [--perf-basic-prof]
 * Exits non-zero when a check before the load failed or a request under load failed. The figures
 * themselves are never checked.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { FEED_INTERVAL_MS, grpcPlan } from '@meshguard/examples'
import { failWith, writeReport } from './bench-report.js'
import type { FeedLoadResult } from './measure-grpc-feed.js'
import type { SteadyLoadResult } from './measure-steady-load.js'
import type { MeshAuthTarget } from './mesh-auth-server.js'
import { MESH_CONFIGURATIONS, SEED_004_SERVICES, startMesh, type MeshConfiguration, type RunningMesh } from './mesh-configurations.js'
import { checkMesh } from './mesh-checks.js'
import { meshClients } from './mesh-clients.js'
import { measureFeeds, measureReadings, measureSummary, type GrpcRun, type HttpRun, type MeshRunSettings } from './mesh-runs.js'
import { AUTH_SERVER, createMeshWorkloads, DEMO_CALLER, GATEWAY } from './mesh-workloads.js'
import { formatColumns, formatNumber, median } from './report-table.js'
import { startServerProcess } from './server-process.js'

const WARMUP_SEC = 2
const FEED_WARMUP_SEC = 1
/** The task's target: the high tier's requests per second at least this share of off's. */
const TARGET_HIGH_VS_OFF = 0.75
const AUTH_ENTRY = new URL('./mesh-auth-server.js', import.meta.url)
const resultsDir = new URL('../results/', import.meta.url)

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    'grpc-duration': { type: 'string', default: '4' },
    'grpc-connections': { type: 'string', default: '4' },
    'grpc-streams': { type: 'string', default: '16' },
    'feed-streams': { type: 'string', default: '400' },
    'no-call-reports': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'perf-basic-prof': { type: 'boolean', default: false },
  },
})
const settings: MeshRunSettings & { rounds: number; callReports: boolean } = {
  durationSec: wholeNumber('duration', flags.duration),
  rounds: wholeNumber('rounds', flags.rounds),
  connections: wholeNumber('connections', flags.connections),
  grpcDurationSec: wholeNumber('grpc-duration', flags['grpc-duration']),
  grpcConnections: wholeNumber('grpc-connections', flags['grpc-connections']),
  grpcStreams: wholeNumber('grpc-streams', flags['grpc-streams']),
  feedStreams: wholeNumber('feed-streams', flags['feed-streams']),
  feedChannels: 4,
  feedIntervalMs: FEED_INTERVAL_MS.min,
  callReports: !flags['no-call-reports'],
  warmupSec: WARMUP_SEC,
  feedWarmupSec: FEED_WARMUP_SEC,
}

type Runs = Record<MeshConfiguration, { http: HttpRun[]; unary: Array<GrpcRun<SteadyLoadResult>>; feed: Array<GrpcRun<FeedLoadResult>> }>

const cores = availableParallelism()
const cpu = cpus()[0]?.model ?? 'unknown CPU'
console.log(
  `node ${process.version}, ${cores} cores (${cpu}); loopback; ${settings.rounds} alternating rounds of off, low, medium, high; ` +
    `call reports ${settings.callReports ? 'on (as meshguard up sets the tiers up)' : 'off (--no-call-reports)'}\n` +
    `HTTP: GET /summary on api-a, ${settings.connections} requests under way, ${WARMUP_SEC} s warm-up + ${settings.durationSec} s per run\n` +
    `gRPC: GetReading, ${settings.grpcConnections} connections × ${settings.grpcStreams} calls under way, ${WARMUP_SEC} s + ${settings.grpcDurationSec} s; ` +
    `Feed, ${settings.feedStreams} streams at ${settings.feedIntervalMs} ms (the minimum) over ${settings.feedChannels} connections, ${FEED_WARMUP_SEC} s + ${settings.grpcDurationSec} s\n`,
)

const problems: string[] = []
const workloads = await createMeshWorkloads([AUTH_SERVER, GATEWAY, DEMO_CALLER, ...SEED_004_SERVICES, grpcPlan.name])
const configDir = await mkdtemp(join(tmpdir(), 'meshguard-bench-mesh-configs-'))
const cpuProfileDir = flags['cpu-prof'] ? fileURLToPath(new URL('profiles/', resultsDir)) : undefined
if (cpuProfileDir !== undefined) await mkdir(cpuProfileDir, { recursive: true })
let runs: Runs | undefined
let bodies: Partial<Record<MeshConfiguration, string>> = {}
try {
  runs = await measureAll()
} finally {
  await rm(configDir, { recursive: true, force: true })
  await workloads.remove()
}
if (runs === undefined) failWith(problems)

const configs = MESH_CONFIGURATIONS
const perRound = (values: (c: MeshConfiguration) => number[], c: MeshConfiguration) => values(c).map((value, round) => value / values('off')[round]!)
const httpRate = (c: MeshConfiguration) => runs[c].http.map((run) => run.perSecond)
const unaryRate = (c: MeshConfiguration) => runs[c].unary.map((run) => run.result.perSecond)
const httpCpu = (c: MeshConfiguration) => runs[c].http.map((run) => perUnit(sum(run.serviceCpuMicros) + run.authCpuMicros, run.responses))
const unaryCpu = (c: MeshConfiguration) => runs[c].unary.map((run) => perUnit(run.serviceCpuMicros + run.authCpuMicros, run.result.responses))
const feedCpu = (c: MeshConfiguration) => runs[c].feed.map((run) => perUnit(run.serviceCpuMicros, run.result.messages))
const ratioCell = (ratios: number[]) => `${formatNumber(median(ratios), 2)}x`

const httpTable = formatColumns(
  `HTTP GET /summary on api-a (A → B → D, A → C), ${settings.connections} under way; CPU: user + system µs per answered summary`,
  ['configuration', 'req/s', 'vs off', 'p50 (ms)', 'p99 (ms)', 'CPU, 4 services', 'CPU, auth server', 'answer bytes'],
  configs.map((c) => [
    c,
    formatNumber(median(httpRate(c)), 0),
    ratioCell(perRound(httpRate, c)),
    formatNumber(median(runs[c].http.map((run) => run.p50Ms)), 1),
    formatNumber(median(runs[c].http.map((run) => run.p99Ms)), 1),
    formatNumber(median(runs[c].http.map((run) => perUnit(sum(run.serviceCpuMicros), run.responses))), 0),
    formatNumber(median(runs[c].http.map((run) => perUnit(run.authCpuMicros, run.responses))), 0),
    formatNumber(bodies[c]?.length ?? Number.NaN, 0),
  ]),
)
const byService = formatColumns(
  'CPU µs per summary, by service (median over rounds)',
  ['configuration', ...SEED_004_SERVICES],
  configs.map((c) => [c, ...SEED_004_SERVICES.map((_, i) => formatNumber(median(runs[c].http.map((run) => perUnit(run.serviceCpuMicros[i]!, run.responses))), 0))]),
)
const unaryTable = formatColumns(
  `gRPC SensorService/GetReading, ${settings.grpcConnections} × ${settings.grpcStreams} under way; CPU µs per call`,
  ['configuration', 'calls/s', 'vs off', 'p50 (ms)', 'p99 (ms)', 'CPU, gRPC process', 'CPU, auth server'],
  configs.map((c) => [
    c,
    formatNumber(median(unaryRate(c)), 0),
    ratioCell(perRound(unaryRate, c)),
    formatNumber(median(runs[c].unary.map((run) => run.result.p50Ms)), 2),
    formatNumber(median(runs[c].unary.map((run) => run.result.p99Ms)), 2),
    formatNumber(median(runs[c].unary.map((run) => perUnit(run.serviceCpuMicros, run.result.responses))), 0),
    formatNumber(median(runs[c].unary.map((run) => perUnit(run.authCpuMicros, run.result.responses))), 0),
  ]),
)
const feedTable = formatColumns(
  `gRPC SensorService/Feed, ${settings.feedStreams} streams every ${settings.feedIntervalMs} ms (offered ${formatNumber((settings.feedStreams * 1000) / settings.feedIntervalMs, 0)} readings/s)`,
  ['configuration', 'readings/s', 'gap p50 (ms)', 'gap p99 (ms)', 'CPU µs/reading', 'CPU vs off'],
  configs.map((c) => [
    c,
    formatNumber(median(runs[c].feed.map((run) => run.result.perSecond)), 0),
    formatNumber(median(runs[c].feed.map((run) => run.result.gapP50Ms)), 1),
    formatNumber(median(runs[c].feed.map((run) => run.result.gapP99Ms)), 1),
    formatNumber(median(feedCpu(c)), 1),
    ratioCell(perRound(feedCpu, c)),
  ]),
)
const highVsOff = perRound(httpRate, 'high')
const ratioRows = (label: string, values: (c: MeshConfiguration) => number[], highTarget = '') =>
  (['low', 'medium', 'high'] as const).map((c) => [
    label.replace('%s', c),
    ratioCell(perRound(values, c)),
    perRound(values, c).map((r) => formatNumber(r, 2)).join(', '),
    c === 'high' ? highTarget : '',
  ])
const ratioTable = formatColumns(
  'Against off, paired within each round (the target printed, never checked)',
  ['ratio', 'median', 'per round', 'target'],
  [
    ...ratioRows('HTTP %s / off, req/s', httpRate, `at least ${TARGET_HIGH_VS_OFF}x: ${median(highVsOff) >= TARGET_HIGH_VS_OFF ? 'met' : 'not met'}`),
    ...ratioRows('HTTP %s / off, CPU per summary (services + auth server)', httpCpu),
    ...ratioRows('gRPC %s / off, GetReading calls/s', unaryRate),
    ...ratioRows('gRPC %s / off, CPU per GetReading call', unaryCpu),
  ],
)
console.log(`\n${httpTable}\n\n${byService}\n\n${unaryTable}\n\n${feedTable}\n\n${ratioTable}\n`)

const failures = configs.flatMap((c) => [
  ...runs[c].http.map((run) => [run.failures, run.firstFailure] as const),
  ...runs[c].unary.map((run) => [run.result.failures, run.result.firstFailure] as const),
  ...runs[c].feed.map((run) => [run.result.failures, run.result.firstFailure] as const),
])
const failed = failures.reduce((total, [count]) => total + count, 0)
if (failed > 0) problems.push(`${failed} requests, calls or streams failed under load (warm-ups included); the first: ${failures.find(([count]) => count > 0)?.[1] ?? ''}`)
console.log(`failed under load: ${failed}`)

await mkdir(resultsDir, { recursive: true })
await writeReport(new URL('mesh-tiers.json', resultsDir), {
  date: new Date().toISOString(),
  environment: { node: process.version, cores, cpu, platform: `${process.platform}-${process.arch}` },
  settings,
  target: { highVsOffRequestsPerSecond: TARGET_HIGH_VS_OFF, measured: median(highVsOff), perRound: highVsOff },
  answerBytes: bodies,
  runs,
  problems,
})
if (problems.length > 0) failWith(problems)

/** Starts everything, checks every configuration, loads them in turn, and stops everything; undefined when a check failed. */
async function measureAll(): Promise<Runs | undefined> {
  const stops: Array<() => Promise<void>> = []
  try {
    const auth = await startServerProcess<MeshAuthTarget>(AUTH_ENTRY, { args: [JSON.stringify(workloads.files(AUTH_SERVER))] })
    stops.push(() => auth.stop())
    const setup = { workloads, auth: auth.target, callReports: settings.callReports, dir: configDir, cpuProfileDir, perfMap: flags['perf-basic-prof'] }
    const meshes = new Map<MeshConfiguration, RunningMesh>()
    const starts = await Promise.allSettled(MESH_CONFIGURATIONS.map((c) => startMesh(c, setup)))
    for (const start of starts) {
      if (start.status === 'fulfilled') {
        meshes.set(start.value.configuration, start.value)
        stops.push(() => start.value.stop())
      }
    }
    for (const start of starts) if (start.status === 'rejected') throw start.reason
    const clients = meshClients(workloads, auth.target)
    const checked = await checkMesh(meshes, clients)
    problems.push(...checked.problems)
    bodies = checked.bodies
    if (problems.length > 0) return undefined

    const measured = Object.fromEntries(MESH_CONFIGURATIONS.map((c) => [c, { http: [], unary: [], feed: [] }])) as unknown as Runs
    const inRounds = async (what: string, measure: (mesh: RunningMesh) => Promise<void>) => {
      for (let round = 0; round < settings.rounds; round += 1) {
        for (let i = 0; i < MESH_CONFIGURATIONS.length; i += 1) {
          const c = MESH_CONFIGURATIONS[(round + i) % MESH_CONFIGURATIONS.length]!
          console.log(`round ${round + 1}/${settings.rounds}: ${what}, ${c} ...`)
          await measure(meshes.get(c)!)
        }
      }
    }
    const on = (mesh: RunningMesh) => ({ mesh, auth, clients, settings })
    await inRounds('HTTP /summary', async (mesh) => {
      measured[mesh.configuration].http.push(await measureSummary(on(mesh), bodies[mesh.configuration]!))
    })
    await inRounds('gRPC GetReading', async (mesh) => {
      measured[mesh.configuration].unary.push(await measureReadings(on(mesh)))
    })
    await inRounds('gRPC Feed', async (mesh) => {
      measured[mesh.configuration].feed.push(await measureFeeds(on(mesh)))
    })
    return measured
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => problems.push(`stopping a process: ${(err as Error).message}`))
  }
}

function perUnit(micros: number, count: number): number {
  return count > 0 ? micros / count : Number.NaN
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0)
}

function wholeNumber(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--${flag} must be a whole number, at least 1`)
  return n
}

