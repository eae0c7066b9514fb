/**
 * User grants benchmark: authorization-code redemptions and refresh-token rotations per second,
 * Meshguard's authorization server against panva's oidc-provider, each in its own process on
 * loopback. Before each run the server mints the codes it will redeem; every code and every
 * refresh token is sent exactly once. Then, in process, login verifications per second with
 * Meshguard's scrypt parameters beside bcryptjs.
 *
 * Usage: node bench/dist/user-grants.js [--requests 10000] [--warmup 2000] [--rounds 3] [--seconds 3] [--cpu-prof]
 * Exits non-zero when any request failed, got an answer other than 200, or lacked a token.
 */
import { mkdir } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { failWith, writeReport } from './bench-report.js'
import { measurePasswordVerification } from './measure-password-verification.js'
import { measureSingleUseLoad, type SingleUseResult } from './measure-single-use-load.js'
import { formatNumber, formatTable, ratioOf, type ComparisonTable } from './report-table.js'
import { startServerProcess, type ServerProcess } from './server-process.js'
import { checkUserGrants, hasAllTokens, type UserGrantChecks } from './user-grant-checks.js'
import { codeRedemptionBody, refreshBody, type MintCodes, type MintedCodes, type UserGrantTarget } from './user-grant-target.js'

const CONNECTIONS = 50
const BCRYPT_COST = 10
/** The target: both grants at least twice oidc-provider's rate. Printed, never checked. */
const TARGET_RATIO = 2

const SERVERS = {
  meshguard: new URL('./meshguard-user-server.js', import.meta.url),
  'oidc-provider': new URL('./oidc-provider-user-server.js', import.meta.url),
} as const
type ServerName = keyof typeof SERVERS
type GrantKind = 'code' | 'refresh'
const GRANT_LABELS: Record<GrantKind, string> = { code: 'authorization_code redemptions/s', refresh: 'refresh_token rotations/s' }

const resultsDir = new URL('../results/', import.meta.url)

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    'cpu-prof': { type: 'boolean', default: false },
  },
})
const measured = wholeFlag('requests', 1)
const warmup = wholeFlag('warmup', 0)
const rounds = wholeFlag('rounds', 1)
const hashSeconds = wholeFlag('seconds', 1)

const cores = availableParallelism()
const cpu = cpus()[0]?.model ?? 'unknown CPU'
console.log(
  `node ${process.version}, ${cores} cores (${cpu}); loopback, ${CONNECTIONS} connections, ` +
    `${warmup} warm-up + ${measured} measured requests per run, each code and refresh token sent once, ${rounds} alternating rounds\n`,
)

// In-process figures first, while no server competes for the cores.
console.log('login verifications ...')
const passwords = await measurePasswordVerification({ seconds: hashSeconds, cores, bcryptCost: BCRYPT_COST })

const problems: string[] = []
const { checks, runs } = await measureServers()

const medianOf = (name: ServerName, kind: GrantKind) => median(runs[name][kind])
const roundRatios = (kind: GrantKind) => runs.meshguard[kind].map((run, i) => run.perSecond / runs['oidc-provider'][kind][i]!.perSecond)
const mg = { code: medianOf('meshguard', 'code'), refresh: medianOf('meshguard', 'refresh') }
const op = { code: medianOf('oidc-provider', 'code'), refresh: medianOf('oidc-provider', 'refresh') }
const http: ComparisonTable = {
  title: `HTTP, ${CONNECTIONS} connections (ratio = meshguard / oidc-provider; for latency, lower is better)`,
  peer: 'oidc-provider',
  rows: [
    ...(['code', 'refresh'] as const).flatMap((kind) => [
      { metric: GRANT_LABELS[kind], meshguard: mg[kind].perSecond, peer: op[kind].perSecond },
      { metric: '  latency p50 (ms)', meshguard: mg[kind].p50Ms, peer: op[kind].p50Ms },
      { metric: '  latency p99 (ms)', meshguard: mg[kind].p99Ms, peer: op[kind].p99Ms },
      { metric: '  server CPU µs/request', meshguard: cpuPerRequest(mg[kind]), peer: cpuPerRequest(op[kind]) },
    ]),
    { metric: 'tokens per redemption', meshguard: checks.meshguard.redemption, peer: checks['oidc-provider'].redemption },
    { metric: 'tokens per refresh', meshguard: checks.meshguard.rotation, peer: checks['oidc-provider'].rotation },
    { metric: 'code redeemed twice', meshguard: checks.meshguard.codeReused, peer: checks['oidc-provider'].codeReused },
    { metric: 'wrong code_verifier', meshguard: checks.meshguard.wrongVerifier, peer: checks['oidc-provider'].wrongVerifier },
    { metric: 'rotated-out refresh token', meshguard: checks.meshguard.refreshReused, peer: checks['oidc-provider'].refreshReused },
  ].map((row) => ({ ...row, ratio: ratioOf(row.meshguard, row.peer) })),
}
const { scrypt, bcryptjs } = passwords
const login: ComparisonTable = {
  title: `Login verification in process, scrypt N=2^${Math.log2(scrypt.params.N)} r=${scrypt.params.r} p=${scrypt.params.p} (ratio = meshguard / bcryptjs)`,
  peer: `bcryptjs cost ${BCRYPT_COST}`,
  rows: [
    { metric: 'verifications/s, one core', meshguard: scrypt.oneCore.perSecond, peer: bcryptjs.oneCore.perSecond, decimals: 1 },
    { metric: '  ms per verification', meshguard: scrypt.oneCore.msPerVerification, peer: bcryptjs.oneCore.msPerVerification, decimals: 1 },
    { metric: `verifications/s, ${cores} in parallel`, meshguard: scrypt.allCores.perSecond, peer: bcryptjs.allCores.perSecond, decimals: 1 },
    { metric: '  ms per verification', meshguard: scrypt.allCores.msPerVerification, peer: bcryptjs.allCores.msPerVerification, decimals: 1 },
    { metric: 'memory per verification', meshguard: `${(128 * scrypt.params.N * scrypt.params.r) / 2 ** 20} MiB`, peer: '4 KiB' },
  ].map((row) => ({ ...row, ratio: ratioOf(row.meshguard, row.peer) })),
}

console.log(`\n${formatTable(http)}\n\n${formatTable(login)}\n`)
const targets = (['code', 'refresh'] as const).map((kind) => {
  const ratio = mg[kind].perSecond / op[kind].perSecond
  return { metric: GRANT_LABELS[kind], ratio, target: TARGET_RATIO, met: ratio >= TARGET_RATIO, rounds: roundRatios(kind) }
})
for (const { metric, ratio, met, rounds: perRound } of targets) {
  console.log(`target ${metric} >= ${TARGET_RATIO}x oidc-provider: ${ratio.toFixed(2)}x, ${met ? 'met' : 'not met'} (per round: ${perRound.map((r) => `${r.toFixed(2)}x`).join(', ')})`)
}
console.log(`scrypt on the libuv pool, ${cores} in parallel: ${formatNumber(scrypt.allCores.perSecond, 1)} logins/s for the whole machine, each ${formatNumber(scrypt.allCores.msPerVerification, 0)} ms`)
const allRuns = Object.values(runs).flatMap((server) => [...server.code, ...server.refresh])
const errors = allRuns.reduce((sum, run) => sum + run.errors, 0)
const non200 = allRuns.reduce((sum, run) => sum + run.non200, 0)
console.log(`requests errored: ${errors}, responses other than 200: ${non200} (warm-ups included)`)

await mkdir(resultsDir, { recursive: true })
await writeReport(new URL('user-grants.json', resultsDir), {
  date: new Date().toISOString(),
  environment: { node: process.version, cores, cpu, platform: `${process.platform}-${process.arch}` },
  settings: { connections: CONNECTIONS, warmupRequests: warmup, measuredRequests: measured, rounds, hashSeconds },
  tables: [http, login],
  targets,
  checks,
  runs,
  passwords,
  errors,
  non200,
  problems,
})

if (problems.length > 0) failWith(problems)

/** Both servers up at once; each round redeems codes on one, then the other, then refreshes on each. */
async function measureServers(): Promise<{
  checks: Record<ServerName, Omit<UserGrantChecks, 'problems'>>
  runs: Record<ServerName, Record<GrantKind, SingleUseResult[]>>
}> {
  const names = Object.keys(SERVERS) as ServerName[]
  const started = await Promise.all(
    names.map((name) => {
      const execArgv = flags['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', fileURLToPath(new URL('profiles/', resultsDir)), '--cpu-prof-name', `user-grants-${name}.cpuprofile`] : []
      return startServerProcess<UserGrantTarget>(SERVERS[name], { execArgv })
    }),
  )
  try {
    const servers = names.map((name, i) => ({ name, process: started[i]!, code: [] as SingleUseResult[], refresh: [] as SingleUseResult[] }))
    const checks = {} as Record<ServerName, Omit<UserGrantChecks, 'problems'>>
    for (const server of servers) {
      const { problems: found, ...answers } = await checkUserGrants(server.name, server.process)
      problems.push(...found)
      checks[server.name] = answers
    }
    for (let round = 1; round <= rounds; round += 1) {
      const refreshTokens = new Map<ServerName, string[]>()
      for (const server of servers) {
        const minted = await mintCodes(server.process, warmup + measured)
        console.log(`round ${round}/${rounds}: ${server.name} authorization_code (${minted.codes.length} codes minted in ${minted.seconds.toFixed(1)} s) ...`)
        const tokens: string[] = []
        const bodies = minted.codes.map((code) => codeRedemptionBody(code, server.process.target.codeVerifier))
        server.code.push(await load(server.name, 'code', server.process, bodies, tokens))
        refreshTokens.set(server.name, tokens)
      }
      for (const server of servers) {
        console.log(`round ${round}/${rounds}: ${server.name} refresh_token ...`)
        const bodies = refreshTokens.get(server.name)!.map(refreshBody)
        server.refresh.push(await load(server.name, 'refresh', server.process, bodies, []))
      }
    }
    const runs = Object.fromEntries(servers.map((server) => [server.name, { code: server.code, refresh: server.refresh }])) as Record<ServerName, Record<GrantKind, SingleUseResult[]>>
    return { checks, runs }
  } finally {
    await Promise.all(started.map((server) => server.stop()))
  }
}

async function mintCodes(server: ServerProcess<UserGrantTarget>, count: number): Promise<MintedCodes & { seconds: number }> {
  const start = performance.now()
  const minted = await server.ask<MintedCodes>({ mint: 'codes', count } satisfies MintCodes)
  if (new Set(minted.codes).size !== count) throw new Error(`asked for ${count} distinct codes, got ${new Set(minted.codes).size}`)
  return { ...minted, seconds: (performance.now() - start) / 1000 }
}

/**
 * A warm-up run over the first `warmup` bodies, whose figures are dropped but whose failures
 * count, then the measured run over the rest, with the server's CPU time sampled either side.
 * Every 200 must carry the three tokens; their refresh tokens are added to `refreshTokens`.
 */
async function load(name: ServerName, kind: GrantKind, server: ServerProcess<UserGrantTarget>, bodies: readonly string[], refreshTokens: string[]): Promise<SingleUseResult> {
  const label = `${name} ${kind === 'code' ? 'authorization_code' : 'refresh_token'}`
  if (bodies.length < warmup + measured) problems.push(`${label}: only ${bodies.length} of ${warmup + measured} credentials to send`)
  let incomplete = 0
  let firstRefusal: string | undefined
  const onResponse = (status: number, body: string) => {
    if (status !== 200) {
      firstRefusal ??= `${status} ${body.slice(0, 300)}`
      return
    }
    const json = JSON.parse(body) as Record<string, unknown>
    if (hasAllTokens(json)) refreshTokens.push(json.refresh_token as string)
    else incomplete += 1
  }
  const { tokenUrl, authorization } = server.target
  const options = { url: tokenUrl, headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, connections: CONNECTIONS, onResponse }
  const warmBodies = bodies.slice(0, warmup)
  const warm = warmBodies.length > 0 ? [await measureSingleUseLoad({ ...options, bodies: warmBodies })] : []
  const run = await measureSingleUseLoad({ ...options, bodies: bodies.slice(warmup), sampleServer: () => server.sample() })

  const errors = [...warm, run].reduce((sum, each) => sum + each.errors, 0)
  const non200 = [...warm, run].reduce((sum, each) => sum + each.non200, 0)
  const sent = [...warm, run].reduce((sum, each) => sum + each.sent, 0)
  if (errors + non200 > 0) problems.push(`${label}: ${errors} requests errored, ${non200} answers were not 200 (measured run: ${JSON.stringify(run.statusCodes)}); first: ${firstRefusal ?? 'none'}`)
  if (incomplete > 0) problems.push(`${label}: ${incomplete} answers lacked an access, ID or refresh token`)
  if (sent !== bodies.length) problems.push(`${label}: ${sent} requests built for ${bodies.length} credentials, not one each`)
  return { ...run, errors, non200 }
}

/** The server's CPU time over the measured run divided by the credentials it was sent. */
function cpuPerRequest(run: SingleUseResult): number {
  return run.server === undefined ? Number.NaN : run.server.cpuMicros / run.sent
}

/** The run with the median throughput (the upper middle one of an even count). */
function median(runs: readonly SingleUseResult[]): SingleUseResult {
  return [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)]!
}

function wholeFlag(name: 'requests' | 'warmup' | 'rounds' | 'seconds', min: number): number {
  const value = Number(flags[name])
  if (!Number.isInteger(value) || value < min) throw new TypeError(`--${name} must be a whole number, at least ${min}`)
  return value
}
