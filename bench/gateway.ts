/**
 * Gateway benchmark (issue 5): the Meshguard gateway beside Debian's nginx as a plain reverse
 * proxy, in front of the same upstream (gateway-upstream.ts), and that upstream loaded directly.
 * The gateway runs three times (gateway-server.ts): with a public route; with a route that needs
 * a JWT, checked against keys fetched from a JWKS served here; and with the same route taking an
 * opaque token, exchanged once for its JWT at an introspection endpoint served here
 * (issuer-stub.ts), then taken from the phantom-token cache. Rows are loaded one at a time in
 * alternating rounds. Proxy CPU per request is the proxy's CPU time over a run
 * (`process.cpuUsage()` for the gateway, `/proc` for nginx's master and worker) divided by the
 * requests the upstream received. Each figure is the median over the rounds.
 *
 * Usage: node bench/dist/gateway.js [--duration 5] [--rounds 3] [--connections 50] [--access-log] [--cpu-prof]
 * Exits non-zero when a request failed, a response under load was not 2xx, or a row did not
 * answer the correctness checks as expected. The figures themselves are never checked.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { encodeAccessToken, type AccessTokenClaims } from '@meshguard/token'
import type { StaticKey } from '@meshguard/service-kit'
import { failWith, writeReport } from './bench-report.js'
import type { GatewayBenchSetup, GatewayMode, GatewayTarget } from './gateway-server.js'
import type { UpstreamTarget } from './gateway-upstream.js'
import { serveIssuerStub } from './issuer-stub.js'
import { keyPair } from './key-pairs.js'
import { measureLoad, type LoadResult } from './measure-load.js'
import { findNginx, nginxVersion, startNginx } from './nginx-proxy.js'
import { ORDER_JSON, ORDER_PATH } from './orders-service.js'
import { formatColumns, formatNumber, median } from './report-table.js'
import { startServerProcess, type ServerUsage } from './server-process.js'

const WARMUP_SEC = 2
const AUDIENCE = 'orders'
const SCOPE = 'orders.read'
/** Issue 5's targets: the gateway with JWT auth against nginx, and against itself without auth. */
const TARGETS = { jwtThroughputVsNginx: 0.5, jwtCpuVsNginx: 2, jwtThroughputVsNoauth: 0.85 } as const
const UPSTREAM_ENTRY = new URL('./gateway-upstream.js', import.meta.url)
/** Where the upstream answers with the `Authorization` it received, for the checks. */
const ECHO_PATH = '/orders/echo-authorization'
const GATEWAY_ENTRY = new URL('./gateway-server.js', import.meta.url)
const resultsDir = new URL('../results/', import.meta.url)

type Row = 'direct' | 'nginx' | 'gateway-noauth' | 'gateway-jwt' | 'gateway-opaque'
/** How each row is shown, and whether it refuses requests without a good token. */
const ROWS: Record<Row, { label: string; authenticates: boolean }> = {
  direct: { label: 'direct to the upstream', authenticates: false },
  nginx: { label: 'nginx, reverse proxy', authenticates: false },
  'gateway-noauth': { label: 'gateway, public route', authenticates: false },
  'gateway-jwt': { label: 'gateway, JWT (cached)', authenticates: true },
  'gateway-opaque': { label: 'gateway, opaque token (cached)', authenticates: true },
}
const GATEWAY_MODES = { 'gateway-noauth': 'noauth', 'gateway-jwt': 'jwt', 'gateway-opaque': 'opaque' } as const satisfies Partial<Record<Row, GatewayMode>>

/** One row's load target: where to send requests, and the proxy to sample, if any. */
interface Target {
  url: string
  sampleProxy?: () => Promise<ServerUsage>
}

interface RowFigures {
  perSecond: number
  p50Ms: number
  p99Ms: number
  /** The proxy's CPU time over the requests the upstream received; NaN for the direct row. */
  proxyCpuMicrosPerRequest: number
  upstreamCpuMicrosPerRequest: number
}

/** A ratio read against a target (or none), per round and its median. */
interface Ratio {
  label: string
  perRound: number[]
  median: number
  target?: { bound: 'at least' | 'at most'; value: number } | undefined
}

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    'access-log': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
  },
})
const durationSec = wholeNumber('duration', flags.duration)
const rounds = wholeNumber('rounds', flags.rounds)
const connections = wholeNumber('connections', flags.connections)
const accessLog = flags['access-log']

const cores = availableParallelism()
const cpu = cpus()[0]?.model ?? 'unknown CPU'
const nginxExecutable = findNginx()
const nginx = nginxExecutable === undefined ? undefined : await nginxVersion(nginxExecutable)
const rows = (Object.keys(ROWS) as Row[]).filter((row) => row !== 'nginx' || nginx !== undefined)
const logging = accessLog
  ? 'access logs on: nginx `combined` format, buffered 64 KiB; the gateway its pino line, asynchronous writes'
  : 'access logs off in both (nginx `access_log off`, gateway `log.accessLog: false`); the gateway keeps its Prometheus metrics'
console.log(
  `node ${process.version}, ${nginx ?? 'no nginx'}, ${cores} cores (${cpu}); loopback, GET ${ORDER_PATH} with a bearer token, ` +
    `${connections} connections, ${WARMUP_SEC} s warm-up + ${durationSec} s per run, ${rounds} alternating rounds; ${logging}\n`,
)
if (nginx === undefined) console.log("nginx not found (on PATH or in /usr/sbin): the nginx row and the ratios to it are left out; Debian's package is `apt-get install nginx`\n")

const { privateKey, publicKey } = keyPair('ES256')
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench-key', alg: 'ES256', use: 'sig' } as StaticKey
// Valid for the whole run, whatever its flags.
const lifetimeSec = rounds * rows.length * (WARMUP_SEC + durationSec) + 600
const client = { id: 'bench-gateway', secret: randomBytes(24).toString('hex') }
const issuer = await serveIssuerStub({ keys: [jwk], client })
const token = issue({})
/** The opaque row is sent opaque tokens that introspect to these JWTs; every other row, the JWTs. */
const checks = [
  { request: 'the token', token, open: 200, authenticated: 200 },
  { request: 'no token', token: undefined, open: 200, authenticated: 401 },
  { request: `a token without ${SCOPE}`, token: issue({ scope: 'orders.write' }), open: 200, authenticated: 403 },
  { request: 'a token for another audience', token: issue({ aud: 'payments' }), open: 200, authenticated: 401 },
  { request: 'a token signed by another key', token: issue({}, keyPair('ES256').privateKey), open: 200, authenticated: 401 },
]
const opaque = new Map(checks.flatMap(({ token: jwt }) => (jwt === undefined ? [] : [[jwt, issuer.reference(jwt)] as const])))
/** The bearer token a row is sent in place of `jwt`. */
const tokenFor = (row: Row, jwt: string) => (row === 'gateway-opaque' ? opaque.get(jwt)! : jwt)

const problems: string[] = []
const notes: string[] = []
const logDir = accessLog ? await mkdtemp(join(tmpdir(), 'meshguard-bench-logs-')) : undefined
let runs: Record<Row, LoadResult[]> | undefined
try {
  runs = await measureRows()
} finally {
  await issuer.close()
  if (logDir !== undefined) {
    notes.push(`access logs written: ${await logSizes(logDir)}`)
    await rm(logDir, { recursive: true, force: true })
  }
}
if (runs === undefined) failWith(problems)
const figures = summarise(runs)
const ratios = ratiosOf(runs)

const errors = Object.values(runs).flat().reduce((sum, run) => sum + run.errors, 0)
const non2xx = Object.values(runs).flat().reduce((sum, run) => sum + run.non2xx, 0)
if (errors > 0 || non2xx > 0) problems.push(`${errors} requests errored and ${non2xx} responses were not 2xx (warm-ups included)`)

const direct = figures.direct.perSecond
const byRow = formatColumns(
  `GET ${ORDER_PATH}, ${connections} connections (CPU: user + system time of the process over the requests the upstream received)`,
  ['row', 'req/s', 'vs direct', 'p50 (ms)', 'p99 (ms)', 'proxy CPU µs/req', 'upstream CPU µs/req'],
  rows.map((row) => {
    const f = figures[row]
    return [
      ROWS[row].label,
      formatNumber(f.perSecond, 0),
      row === 'direct' ? '' : `${formatNumber(f.perSecond / direct, 2)}x`,
      formatNumber(f.p50Ms, 0),
      formatNumber(f.p99Ms, 0),
      row === 'direct' ? '' : formatNumber(f.proxyCpuMicrosPerRequest, 1),
      formatNumber(f.upstreamCpuMicrosPerRequest, 1),
    ]
  }),
)
const verdict = (ratio: Ratio) => {
  if (ratio.target === undefined) return ''
  const met = ratio.target.bound === 'at least' ? ratio.median >= ratio.target.value : ratio.median <= ratio.target.value
  return `${ratio.target.bound} ${ratio.target.value}x: ${met ? 'met' : 'not met'}`
}
const ratioTable = formatColumns(
  "Ratios, paired within each round (issue 5's targets printed, never checked)",
  ['ratio', 'median', 'per round', 'target'],
  ratios.map((ratio) => [ratio.label, `${formatNumber(ratio.median, 2)}x`, ratio.perRound.map((r) => formatNumber(r, 2)).join(', '), verdict(ratio)]),
)
console.log(`\n${byRow}\n\n${ratioTable}\n`)
console.log(`requests errored: ${errors}, non-2xx responses: ${non2xx}; issuer stub: JWKS fetched ${issuer.jwksFetches} times, ${issuer.introspections} introspections`)
for (const note of notes) console.log(`note: ${note}`)

await mkdir(resultsDir, { recursive: true })
const jsonFile = new URL('gateway.json', resultsDir)
const report = {
  date: new Date().toISOString(),
  environment: { node: process.version, nginx, cores, cpu, platform: `${process.platform}-${process.arch}` },
  settings: { connections, warmupSec: WARMUP_SEC, durationSec, rounds, accessLog, logging },
  targets: TARGETS,
  rows: Object.fromEntries(rows.map((row) => [row, ROWS[row]])),
  figures,
  ratios,
  runs,
  errors,
  non2xx,
  notes,
  problems,
}
await writeReport(jsonFile, report)

if (problems.length > 0) failWith(problems)

/**
 * The upstream, nginx and the gateways up at once and checked, then loaded one after another,
 * in a rotated order each round. Undefined, with nothing loaded, when a row failed a check.
 */
async function measureRows(): Promise<Record<Row, LoadResult[]> | undefined> {
  const stops: Array<() => Promise<void>> = []
  let nginxErrors = (): string[] => []
  try {
    const upstream = await startServerProcess<UpstreamTarget>(UPSTREAM_ENTRY, { args: [ECHO_PATH] })
    stops.push(() => upstream.stop())
    const targets = new Map<Row, Target>([['direct', { url: `${upstream.target.origin}${ORDER_PATH}` }]])
    if (nginxExecutable !== undefined) {
      const accessLogFile = logDir === undefined ? undefined : join(logDir, 'nginx-access.log')
      const proxy = await startNginx(nginxExecutable, { upstream: upstream.target.origin, accessLogFile })
      stops.push(() => proxy.stop())
      nginxErrors = () => proxy.errors()
      targets.set('nginx', { url: `${proxy.origin}${ORDER_PATH}`, sampleProxy: () => proxy.sample() })
    }
    for (const [row, mode] of Object.entries(GATEWAY_MODES) as Array<[Row, GatewayMode]>) {
      const setup: GatewayBenchSetup = {
        issuer: issuer.issuer, upstream: upstream.target.origin, audience: AUDIENCE, scope: SCOPE, client,
        accessLogFile: logDir === undefined ? undefined : join(logDir, `gateway-${mode}-access.log`),
      }
      const execArgv = flags['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', fileURLToPath(new URL('profiles/', resultsDir)), '--cpu-prof-name', `gateway-${mode}.cpuprofile`] : []
      const gateway = await startServerProcess<GatewayTarget>(GATEWAY_ENTRY, { args: [mode, JSON.stringify(setup)], execArgv })
      stops.push(() => gateway.stop())
      targets.set(row, { url: gateway.target.url, sampleProxy: () => gateway.sample() })
    }

    for (const row of rows) await checkRow(row, targets.get(row)!.url)
    if (problems.length > 0) return undefined
    const runs = Object.fromEntries(rows.map((row) => [row, [] as LoadResult[]])) as Record<Row, LoadResult[]>
    for (let round = 0; round < rounds; round += 1) {
      for (let i = 0; i < rows.length; i += 1) {
        const row = rows[(round + i) % rows.length]!
        console.log(`round ${round + 1}/${rounds}: ${ROWS[row].label} ...`)
        const target = targets.get(row)!
        runs[row].push(
          await measureLoad({
            url: target.url, method: 'GET', headers: { authorization: `Bearer ${tokenFor(row, token)}` }, connections, warmupSec: WARMUP_SEC, durationSec,
            sampleServer: target.sampleProxy, sampleUpstream: () => upstream.sample(),
          }),
        )
      }
    }
    return runs
  } finally {
    for (const line of nginxErrors()) notes.push(`nginx error log: ${line}`)
    for (const stop of stops.reverse()) {
      await stop().catch((err: unknown) => problems.push(`stopping a server: ${(err as Error).message}`))
    }
  }
}

/**
 * Every row of {@link checks} against one row, and what reaches the upstream: the benchmark's JWT
 * (which the opaque row must have swapped for the opaque token). Each wrong answer is a problem.
 */
async function checkRow(row: Row, url: string): Promise<void> {
  const echo = await fetch(new URL(ECHO_PATH, url), { headers: { authorization: `Bearer ${tokenFor(row, token)}` } })
  const seen = ((await echo.json()) as { authorization?: string }).authorization
  if (seen !== `Bearer ${token}`) problems.push(`${ROWS[row].label} sent the upstream ${seen === undefined ? 'no Authorization' : `"${seen.slice(0, 40)}…"`}, not the benchmark's JWT`)
  for (const check of checks) {
    const expected = ROWS[row].authenticates ? check.authenticated : check.open
    const response = await fetch(url, { headers: check.token === undefined ? {} : { authorization: `Bearer ${tokenFor(row, check.token)}` } })
    const body = await response.text()
    if (response.status !== expected) problems.push(`${ROWS[row].label} answered ${check.request} with ${response.status}, not ${expected}: ${body}`)
    else if (expected === 200 && body !== ORDER_JSON) problems.push(`${ROWS[row].label} answered ${check.request} with ${body}`)
  }
}

/** Medians per row. */
function summarise(runs: Record<Row, LoadResult[]>): Record<Row, RowFigures> {
  return Object.fromEntries(
    rows.map((row) => [
      row,
      {
        perSecond: median(runs[row].map((run) => run.perSecond)),
        p50Ms: median(runs[row].map((run) => run.p50Ms)),
        p99Ms: median(runs[row].map((run) => run.p99Ms)),
        proxyCpuMicrosPerRequest: median(runs[row].map(proxyCpuPerRequest)),
        upstreamCpuMicrosPerRequest: median(runs[row].map((run) => perUpstreamRequest(run, run.upstream))),
      },
    ]),
  ) as Record<Row, RowFigures>
}

/** The issue's ratios and a few for context, each from runs of the same round. */
function ratiosOf(runs: Record<Row, LoadResult[]>): Ratio[] {
  const perSecond = (row: Row) => runs[row].map((run) => run.perSecond)
  const cpu = (row: Row) => runs[row].map(proxyCpuPerRequest)
  const ratio = (label: string, a: number[], b: number[], target?: Ratio['target']): Ratio => {
    const perRound = a.map((value, round) => value / b[round]!)
    return { label, perRound, median: median(perRound), target }
  }
  const list: Ratio[] = []
  if (rows.includes('nginx')) {
    list.push(
      ratio('gateway JWT / nginx, req/s', perSecond('gateway-jwt'), perSecond('nginx'), { bound: 'at least', value: TARGETS.jwtThroughputVsNginx }),
      ratio('gateway JWT / nginx, proxy CPU/req', cpu('gateway-jwt'), cpu('nginx'), { bound: 'at most', value: TARGETS.jwtCpuVsNginx }),
    )
  }
  list.push(ratio('gateway JWT / gateway public, req/s', perSecond('gateway-jwt'), perSecond('gateway-noauth'), { bound: 'at least', value: TARGETS.jwtThroughputVsNoauth }))
  list.push(ratio('gateway JWT / gateway public, proxy CPU/req', cpu('gateway-jwt'), cpu('gateway-noauth')))
  list.push(ratio('gateway opaque / gateway public, req/s', perSecond('gateway-opaque'), perSecond('gateway-noauth')))
  list.push(ratio('gateway opaque / gateway public, proxy CPU/req', cpu('gateway-opaque'), cpu('gateway-noauth')))
  if (rows.includes('nginx')) {
    list.push(
      ratio('gateway public / nginx, req/s', perSecond('gateway-noauth'), perSecond('nginx')),
      ratio('gateway public / nginx, proxy CPU/req', cpu('gateway-noauth'), cpu('nginx')),
    )
  }
  return list
}

function proxyCpuPerRequest(run: LoadResult): number {
  return perUpstreamRequest(run, run.server)
}

/** A process's CPU time over a run divided by the requests the upstream received in it; NaN without both. */
function perUpstreamRequest(run: LoadResult, usage: ServerUsage | undefined): number {
  return usage !== undefined && run.upstream !== undefined && run.upstream.requests > 0 ? usage.cpuMicros / run.upstream.requests : Number.NaN
}

/** An ES256 access token for the benchmark's audience and scope, with `overrides`. */
function issue(overrides: Partial<AccessTokenClaims>, key = privateKey): string {
  const now = Math.floor(Date.now() / 1000)
  const claims: AccessTokenClaims = {
    iss: issuer.issuer, sub: 'bench-client', aud: AUDIENCE, exp: now + lifetimeSec, iat: now, nbf: now,
    jti: randomUUID(), client_id: 'bench-client', scope: SCOPE, ...overrides,
  }
  return encodeAccessToken(claims, { kid: jwk.kid, alg: 'ES256', privateKey: key })
}

/** Each access log's size, e.g. `nginx-access.log 12.3 MB, ...`. */
async function logSizes(directory: string): Promise<string> {
  const files = (await readdir(directory)).sort()
  const sizes = await Promise.all(files.map(async (file) => `${file} ${formatNumber((await stat(join(directory, file))).size / 1e6, 1)} MB`))
  return sizes.join(', ') || 'none'
}

function wholeNumber(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--${flag} must be a whole number, at least 1`)
  return n
}
