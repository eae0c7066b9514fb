/**
 * Fastify plugin benchmark (issue 3): what the service kit's `meshguardFastify` adds to a
 * request, beside the same route with no authentication and with `@fastify/jwt`, its peer. Each
 * server runs in its own process on loopback (fastify-plugin-server.ts) and reports the CPU time
 * it spent and the requests it received over each measured run, so the headline figure is CPU
 * microseconds per request in the server, which the load generator sharing the machine does not
 * distort as much as requests per second. Servers are loaded one at a time in alternating rounds,
 * so drift in the machine's speed falls on all; each figure is the median over the rounds.
 *
 * Usage: node bench/dist/fastify-plugin.js [--duration 5] [--rounds 3] [--connections 50] [--cpu-prof]
 * Exits non-zero when a request failed, a response under load was not 2xx, or a server did not
 * answer the correctness checks as expected. The figures themselves are never checked.
 */
import { randomUUID } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { encodeAccessToken, type AccessTokenClaims } from '@meshguard/token'
import type { StaticKey } from '@meshguard/service-kit'
import { failWith, writeReport } from './bench-report.js'
import type { PluginBenchSetup, PluginServer, PluginTarget } from './fastify-plugin-server.js'
import { keyPair } from './key-pairs.js'
import { measureLoad, type LoadResult } from './measure-load.js'
import { formatColumns, formatNumber, formatTable, ratioOf, type ComparisonTable } from './report-table.js'
import { startServerProcess, type ServerProcess } from './server-process.js'

const WARMUP_SEC = 2
const ISSUER = 'https://auth.bench.example'
const AUDIENCE = 'bench-api'
const SCOPE = 'bench.read'
/** Issue 3: the cached plugin adds at most this much CPU per request to an unauthenticated route. */
const TARGET_OVERHEAD = 0.1
const SERVER_ENTRY = new URL('./fastify-plugin-server.js', import.meta.url)
/** How each server is shown, and whether it refuses requests without a good token. */
const SERVERS: Record<PluginServer, { label: string; authenticates: boolean }> = {
  baseline: { label: 'baseline, no auth', authenticates: false },
  'empty-hook': { label: 'no-op onRequest hook', authenticates: false },
  meshguard: { label: 'meshguard, cached', authenticates: true },
  'meshguard-uncached': { label: 'meshguard, cacheSize 0', authenticates: true },
  'fastify-jwt': { label: '@fastify/jwt, cached', authenticates: true },
}
const names = Object.keys(SERVERS) as PluginServer[]
const resultsDir = new URL('../results/', import.meta.url)

/** A request every server must answer as expected before it is loaded, and what it must answer. */
interface Check {
  request: string
  authorization: string | undefined
  /** Status from a server that authenticates nothing, and from one that does. */
  open: number
  authenticated: number
}

interface ServerFigures {
  perSecond: number
  p50Ms: number
  p99Ms: number
  cpuMicrosPerRequest: number
  /** Per round, this server's CPU per request over the baseline's in the same round. */
  cpuVsBaseline: number[]
  /** Per round, this server's CPU per request minus the baseline's in the same round. */
  addedMicros: number[]
}

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    'cpu-prof': { type: 'boolean', default: false },
  },
})
const durationSec = wholeNumber('duration', flags.duration)
const rounds = wholeNumber('rounds', flags.rounds)
const connections = wholeNumber('connections', flags.connections)

const cores = availableParallelism()
const cpu = cpus()[0]?.model ?? 'unknown CPU'
console.log(
  `node ${process.version}, ${cores} cores (${cpu}); loopback, GET with a bearer token, ${connections} connections, ` +
    `${WARMUP_SEC} s warm-up + ${durationSec} s per run, ${rounds} alternating rounds\n`,
)

const { privateKey, publicKey } = keyPair('ES256')
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench-key', alg: 'ES256' } as StaticKey
// Valid for the whole run, whatever its flags.
const lifetimeSec = rounds * names.length * (WARMUP_SEC + durationSec) + 600
const token = issue({})
const setup: PluginBenchSetup = { issuer: ISSUER, audience: AUDIENCE, scope: SCOPE, jwk }
const checks: Check[] = [
  { request: 'the token', authorization: `Bearer ${token}`, open: 200, authenticated: 200 },
  { request: 'no token', authorization: undefined, open: 200, authenticated: 401 },
  { request: `a token without ${SCOPE}`, authorization: `Bearer ${issue({ scope: 'bench.write' })}`, open: 200, authenticated: 403 },
  { request: 'a token for another audience', authorization: `Bearer ${issue({ aud: 'other-api' })}`, open: 200, authenticated: 401 },
  { request: 'a token signed by another key', authorization: `Bearer ${issue({}, keyPair('ES256').privateKey)}`, open: 200, authenticated: 401 },
]

const problems: string[] = []
const runs = await measureServers()
if (runs === undefined) failWith(problems)
const figures = summarise(runs)

const errors = Object.values(runs).flat().reduce((sum, run) => sum + run.errors, 0)
const non2xx = Object.values(runs).flat().reduce((sum, run) => sum + run.non2xx, 0)
if (errors > 0 || non2xx > 0) problems.push(`${errors} requests errored and ${non2xx} responses were not 2xx (warm-ups included)`)

const percent = (ratio: number) => `${ratio >= 1 ? '+' : ''}${formatNumber((ratio - 1) * 100, 1)}%`
const byServer = formatColumns(
  `Fastify 5, GET /orders/:id, ${connections} connections (CPU: the server process's user + system time over the requests it received)`,
  ['server', 'req/s', 'p50 (ms)', 'p99 (ms)', 'CPU µs/req', 'CPU/req vs baseline', 'added µs/req'],
  names.map((name) => {
    const f = figures[name]
    return [
      SERVERS[name].label,
      formatNumber(f.perSecond, 0),
      formatNumber(f.p50Ms, 0),
      formatNumber(f.p99Ms, 0),
      formatNumber(f.cpuMicrosPerRequest, 1),
      name === 'baseline' ? '' : percent(median(f.cpuVsBaseline)),
      name === 'baseline' ? '' : formatNumber(median(f.addedMicros), 1),
    ]
  }),
)
const mg = figures.meshguard
const peer = figures['fastify-jwt']
const mgAdded = median(mg.addedMicros)
const peerAdded = median(peer.addedMicros)
const versusPeer: ComparisonTable = {
  title: 'Cached, the service kit against @fastify/jwt (ratio = meshguard / @fastify/jwt; for CPU, lower is better)',
  peer: '@fastify/jwt',
  rows: [
    { metric: 'requests/s', meshguard: mg.perSecond, peer: peer.perSecond, ratio: ratioOf(mg.perSecond, peer.perSecond) },
    // autocannon reports whole milliseconds: too coarse for a ratio.
    { metric: 'latency p50 (ms)', meshguard: mg.p50Ms, peer: peer.p50Ms },
    { metric: 'latency p99 (ms)', meshguard: mg.p99Ms, peer: peer.p99Ms },
    { metric: 'CPU µs/request', meshguard: mg.cpuMicrosPerRequest, peer: peer.cpuMicrosPerRequest, ratio: ratioOf(mg.cpuMicrosPerRequest, peer.cpuMicrosPerRequest), decimals: 1 },
    { metric: 'CPU µs/request added to baseline', meshguard: mgAdded, peer: peerAdded, ratio: ratioOf(mgAdded, peerAdded), decimals: 1 },
  ],
}

console.log(`\n${byServer}\n\n${formatTable(versusPeer)}\n`)
for (const name of ['empty-hook', 'meshguard', 'fastify-jwt'] as const) {
  const target = name === 'meshguard' ? ` (issue 3 target: at most +${TARGET_OVERHEAD * 100}%)` : ''
  console.log(`${SERVERS[name].label}: CPU/req vs baseline per round ${figures[name].cpuVsBaseline.map(percent).join(', ')}${target}`)
}
console.log(`requests errored: ${errors}, non-2xx responses: ${non2xx}`)

await mkdir(resultsDir, { recursive: true })
const jsonFile = new URL('fastify-plugin.json', resultsDir)
const report = {
  date: new Date().toISOString(),
  environment: { node: process.version, cores, cpu, platform: `${process.platform}-${process.arch}` },
  settings: { connections, warmupSec: WARMUP_SEC, durationSec, rounds },
  servers: SERVERS,
  figures,
  runs,
  errors,
  non2xx,
  problems,
}
await writeReport(jsonFile, report)

if (problems.length > 0) failWith(problems)

/**
 * All servers up at once and checked, then loaded one after another, in a rotated order each
 * round. Undefined, with nothing loaded, when a server failed a check.
 */
async function measureServers(): Promise<Record<PluginServer, LoadResult[]> | undefined> {
  const started = await Promise.all(
    names.map((name) => {
      const execArgv = flags['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', fileURLToPath(new URL('profiles/', resultsDir)), '--cpu-prof-name', `fastify-plugin-${name}.cpuprofile`] : []
      return startServerProcess<PluginTarget>(SERVER_ENTRY, { args: [name, JSON.stringify(setup)], execArgv })
    }),
  )
  try {
    const servers = new Map(names.map((name, i) => [name, started[i]!]))
    for (const [name, server] of servers) await checkServer(name, server.target)
    if (problems.length > 0) return undefined
    const runs = Object.fromEntries(names.map((name) => [name, [] as LoadResult[]])) as Record<PluginServer, LoadResult[]>
    for (let round = 0; round < rounds; round += 1) {
      for (let i = 0; i < names.length; i += 1) {
        const name = names[(round + i) % names.length]!
        console.log(`round ${round + 1}/${rounds}: ${SERVERS[name].label} ...`)
        runs[name].push(await load(servers.get(name)!))
      }
    }
    return runs
  } finally {
    await Promise.all(started.map((server) => server.stop()))
  }
}

function load(server: ServerProcess<PluginTarget>): Promise<LoadResult> {
  return measureLoad({
    url: server.target.url,
    method: 'GET',
    headers: { authorization: `Bearer ${token}` },
    connections,
    warmupSec: WARMUP_SEC,
    durationSec,
    sampleServer: () => server.sample(),
  })
}

/** Every row of {@link checks} against one server; each wrong answer is a problem. */
async function checkServer(name: PluginServer, target: PluginTarget): Promise<void> {
  for (const check of checks) {
    const expected = SERVERS[name].authenticates ? check.authenticated : check.open
    const response = await fetch(target.url, { headers: check.authorization === undefined ? {} : { authorization: check.authorization } })
    const body = await response.text()
    if (response.status !== expected) problems.push(`${SERVERS[name].label} answered ${check.request} with ${response.status}, not ${expected}: ${body}`)
    else if (expected === 200 && body !== '{"id":"42","status":"shipped","items":3}') problems.push(`${SERVERS[name].label} answered ${check.request} with ${body}`)
  }
}

/** Medians per server; the comparisons with the baseline pair runs of the same round. */
function summarise(runs: Record<PluginServer, LoadResult[]>): Record<PluginServer, ServerFigures> {
  const cpuPerRequest = (run: LoadResult) => (run.server && run.server.requests > 0 ? run.server.cpuMicros / run.server.requests : Number.NaN)
  const baseline = runs.baseline.map(cpuPerRequest)
  return Object.fromEntries(
    names.map((name) => {
      const perRequest = runs[name].map(cpuPerRequest)
      return [
        name,
        {
          perSecond: median(runs[name].map((run) => run.perSecond)),
          p50Ms: median(runs[name].map((run) => run.p50Ms)),
          p99Ms: median(runs[name].map((run) => run.p99Ms)),
          cpuMicrosPerRequest: median(perRequest),
          cpuVsBaseline: perRequest.map((micros, round) => micros / baseline[round]!),
          addedMicros: perRequest.map((micros, round) => micros - baseline[round]!),
        },
      ]
    }),
  ) as Record<PluginServer, ServerFigures>
}

/** An ES256 access token for the benchmark's audience and scope, with `overrides`. */
function issue(overrides: Partial<AccessTokenClaims>, key = privateKey): string {
  const now = Math.floor(Date.now() / 1000)
  const claims: AccessTokenClaims = {
    iss: ISSUER, sub: 'bench-client', aud: AUDIENCE, exp: now + lifetimeSec, iat: now, nbf: now,
    jti: randomUUID(), client_id: 'bench-client', scope: SCOPE, ...overrides,
  }
  return encodeAccessToken(claims, { kid: jwk.kid, alg: 'ES256', privateKey: key })
}

/** The middle value, the upper one of an even count: always a figure some round measured. */
function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN
}

function wholeNumber(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--${flag} must be a whole number, at least 1`)
  return n
}
