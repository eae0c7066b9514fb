/**
 * Token endpoint benchmark: Meshguard's authorization server against panva's oidc-provider,
 * each in its own process on loopback, loaded by autocannon from this process. The two are
 * measured in alternating rounds, so drift in the machine's speed falls on both alike; each
 * figure is the median over the rounds. Then in-process costs of client secret verification
 * and of ES256 signing.
 *
 * Usage: node bench/dist/token-endpoint.js [--duration 10] [--rounds 3] [--cpu-prof]
 * Exits non-zero when any request failed or got a non-2xx answer.
 */
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import bcrypt from 'bcryptjs'
import { decodeProtectedHeader } from 'jose'
import type * as ClientSecret from '../packages/auth-server/dist/crypto/client-secret.js'
import { failWith, writeReport } from './bench-report.js'
import { measureLoad, type LoadResult } from './measure-load.js'
import { measureRate, type Rate } from './measure-rate.js'
import { formatTable, ratioOf, type ComparisonTable } from './report-table.js'
import { startServerProcess, type BenchTarget } from './server-process.js'

const CONNECTIONS = 50
const WARMUP_SEC = 2
const SECRET_ITERATIONS = 200_000
const BCRYPT_COST = 10
const BCRYPT_ITERATIONS = 20
const ES256_ITERATIONS = 20_000

const SERVERS = {
  meshguard: new URL('./meshguard-server.js', import.meta.url),
  'oidc-provider': new URL('./oidc-provider-server.js', import.meta.url),
} as const
type ServerName = keyof typeof SERVERS

const resultsDir = new URL('../results/', import.meta.url)

interface IntrospectionSetup {
  token: string
  /** What the server answered for its own JWT access token, and for the fallback opaque one. */
  answer: string
  active: boolean
  measuredFormat: 'JWT' | 'opaque'
}

interface ServerResult {
  accessToken: string
  issuance: LoadResult
  introspection: LoadResult
  introspectionSetup: Omit<IntrospectionSetup, 'token'>
}

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    'cpu-prof': { type: 'boolean', default: false },
  },
})
const durationSec = Number(flags.duration)
if (!Number.isInteger(durationSec) || durationSec < 1) throw new TypeError('--duration must be a whole number of seconds, at least 1')
const rounds = Number(flags.rounds)
if (!Number.isInteger(rounds) || rounds < 1) throw new TypeError('--rounds must be a whole number, at least 1')

const cores = availableParallelism()
const cpu = cpus()[0]?.model ?? 'unknown CPU'
console.log(`node ${process.version}, ${cores} cores (${cpu}); loopback, ${CONNECTIONS} connections, ${WARMUP_SEC} s warm-up + ${durationSec} s per run, ${rounds} alternating rounds\n`)

// In-process figures first, while no server competes for the cores.
const secrets = await measureSecretVerification()
const es256 = measureEs256Signing()

const problems: string[] = []
const { servers, runs, roundRatios } = await measureServers()

const failures = runs
const errors = failures.reduce((sum, run) => sum + run.errors, 0)
const non2xx = failures.reduce((sum, run) => sum + run.non2xx, 0)
const notes: string[] = []
for (const [name, server] of Object.entries(servers)) {
  notes.push(`${name} introspection of its own token: ${server.introspectionSetup.answer}`)
  if (server.introspectionSetup.measuredFormat === 'opaque') {
    notes.push(`${name} cannot introspect its JWT access tokens; its introspection row was measured with its opaque tokens`)
  }
  if (!server.introspectionSetup.active) problems.push(`${name} did not answer active: true for a token it had just issued`)
}
if (errors > 0 || non2xx > 0) problems.push(`${errors} requests errored and ${non2xx} responses were not 2xx (warm-ups included)`)

const mg = servers.meshguard
const op = servers['oidc-provider']
const http: ComparisonTable = {
  title: `HTTP, ${CONNECTIONS} connections (ratio = meshguard / oidc-provider; for latency, lower is better)`,
  peer: 'oidc-provider',
  rows: [
    { metric: 'client_credentials tokens/s', meshguard: mg.issuance.perSecond, peer: op.issuance.perSecond },
    { metric: '  latency p50 (ms)', meshguard: mg.issuance.p50Ms, peer: op.issuance.p50Ms, decimals: 0 },
    { metric: '  latency p99 (ms)', meshguard: mg.issuance.p99Ms, peer: op.issuance.p99Ms, decimals: 0 },
    { metric: 'introspections/s', meshguard: mg.introspection.perSecond, peer: op.introspection.perSecond },
    { metric: '  latency p50 (ms)', meshguard: mg.introspection.p50Ms, peer: op.introspection.p50Ms, decimals: 0 },
    { metric: '  latency p99 (ms)', meshguard: mg.introspection.p99Ms, peer: op.introspection.p99Ms, decimals: 0 },
    { metric: 'access token issued', meshguard: mg.accessToken, peer: op.accessToken },
    { metric: 'token introspected', meshguard: mg.introspectionSetup.measuredFormat, peer: op.introspectionSetup.measuredFormat },
  ].map((row) => ({ ...row, ratio: ratioOf(row.meshguard, row.peer) })),
}
const inProcess: ComparisonTable = {
  title: 'In process, one core (ratio = meshguard / peer)',
  peer: `bcryptjs cost ${BCRYPT_COST}`,
  rows: [
    {
      metric: 'client secret verifications/s',
      meshguard: secrets.meshguard.perSecond,
      peer: secrets.bcryptjs.perSecond,
      ratio: ratioOf(secrets.meshguard.perSecond, secrets.bcryptjs.perSecond),
    },
    { metric: 'ES256 signatures/s (node:crypto, ceiling)', meshguard: es256.perSecond, peer: '' },
  ],
}

console.log(`\n${formatTable(http)}\n\n${formatTable(inProcess)}\n`)
console.log(`tokens/s ratio per round: ${roundRatios.issuance.map((r) => `${r.toFixed(2)}x`).join(', ')}`)
console.log(`introspections/s ratio per round: ${roundRatios.introspection.map((r) => `${r.toFixed(2)}x`).join(', ')}`)
for (const note of notes) console.log(`note: ${note}`)
console.log(`requests errored: ${errors}, non-2xx responses: ${non2xx}`)

await mkdir(resultsDir, { recursive: true })
const jsonFile = new URL('token-endpoint.json', resultsDir)
const report = {
  date: new Date().toISOString(),
  environment: { node: process.version, cores, cpu, platform: `${process.platform}-${process.arch}` },
  settings: { connections: CONNECTIONS, warmupSec: WARMUP_SEC, durationSec, rounds },
  roundRatios,
  tables: [http, inProcess],
  servers,
  inProcess: { clientSecretVerification: { ...secrets, bcryptCost: BCRYPT_COST }, es256Signing: es256 },
  notes,
  errors,
  non2xx,
  problems,
}
await writeReport(jsonFile, report)

if (problems.length > 0) failWith(problems)

/** Both servers up at once; each round loads one, then the other, for issuance and for introspection. */
async function measureServers(): Promise<{
  servers: Record<ServerName, ServerResult>
  runs: LoadResult[]
  roundRatios: { issuance: number[]; introspection: number[] }
}> {
  const names = Object.keys(SERVERS) as ServerName[]
  const started = await Promise.all(
    names.map((name) => {
      const execArgv = flags['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', fileURLToPath(new URL('profiles/', resultsDir)), '--cpu-prof-name', `${name}.cpuprofile`] : []
      return startServerProcess(SERVERS[name], { execArgv })
    }),
  )
  try {
    const prepared = await Promise.all(
      names.map(async (name, i) => {
        const { target } = started[i]!
        const accessToken = describeToken(await requestToken(target, target.tokenRequest))
        if (accessToken !== 'JWT ES256, typ at+jwt') problems.push(`${name} issued ${accessToken}, not an ES256 JWT access token`)
        const { token, ...introspectionSetup } = await prepareIntrospection(target)
        return { name, target, accessToken, token, introspectionSetup, issuance: [] as LoadResult[], introspection: [] as LoadResult[] }
      }),
    )
    for (let round = 1; round <= rounds; round += 1) {
      for (const kind of ['issuance', 'introspection'] as const) {
        for (const server of prepared) {
          console.log(`round ${round}/${rounds}: ${server.name} ${kind === 'issuance' ? 'client_credentials' : 'introspection'} ...`)
          const headers = { authorization: server.target.authorization, 'content-type': 'application/x-www-form-urlencoded' }
          const load = { method: 'POST', headers, connections: CONNECTIONS, warmupSec: WARMUP_SEC, durationSec } as const
          const body = kind === 'issuance' ? server.target.tokenRequest : new URLSearchParams({ token: server.token }).toString()
          const url = kind === 'issuance' ? server.target.tokenUrl : server.target.introspectionUrl
          server[kind].push(await measureLoad({ ...load, url, body }))
        }
      }
    }
    const servers = Object.fromEntries(
      prepared.map((server) => [
        server.name,
        { accessToken: server.accessToken, issuance: median(server.issuance), introspection: median(server.introspection), introspectionSetup: server.introspectionSetup },
      ]),
    ) as Record<ServerName, ServerResult>
    const [mine, peer] = prepared as [(typeof prepared)[number], (typeof prepared)[number]]
    const ratios = (kind: 'issuance' | 'introspection') => mine[kind].map((run, i) => run.perSecond / peer[kind][i]!.perSecond)
    return {
      servers,
      runs: prepared.flatMap((server) => [...server.issuance, ...server.introspection]),
      roundRatios: { issuance: ratios('issuance'), introspection: ratios('introspection') },
    }
  } finally {
    await Promise.all(started.map((server) => server.stop()))
  }
}

/** The run with the median throughput. */
function median(runs: readonly LoadResult[]): LoadResult {
  return [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)]!
}

/** A token to introspect under load: the server's JWT, or its opaque token when it refuses JWTs. */
async function prepareIntrospection(target: BenchTarget): Promise<IntrospectionSetup> {
  const jwt = await requestToken(target, target.tokenRequest)
  const first = await introspect(target, jwt)
  if (first.active || target.opaqueTokenRequest === undefined) {
    return { token: jwt, answer: `JWT: ${first.answer}`, active: first.active, measuredFormat: 'JWT' }
  }
  const opaque = await requestToken(target, target.opaqueTokenRequest)
  const second = await introspect(target, opaque)
  return { token: opaque, answer: `JWT: ${first.answer}; opaque: ${second.answer}`, active: second.active, measuredFormat: 'opaque' }
}

async function requestToken(target: BenchTarget, body: string): Promise<string> {
  const { status, json } = await postForm(target.tokenUrl, target.authorization, body)
  if (status !== 200 || typeof json.access_token !== 'string') throw new Error(`token request to ${target.tokenUrl} answered ${status}: ${JSON.stringify(json)}`)
  return json.access_token
}

async function introspect(target: BenchTarget, token: string): Promise<{ active: boolean; answer: string }> {
  const { status, json } = await postForm(target.introspectionUrl, target.authorization, new URLSearchParams({ token }).toString())
  if (status !== 200) return { active: false, answer: `${status} ${String(json.error)} (${String(json.error_description)})` }
  return { active: json.active === true, answer: `active: ${String(json.active)}` }
}

async function postForm(url: string, authorization: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

function describeToken(token: string): string {
  try {
    const { alg, typ } = decodeProtectedHeader(token)
    return `JWT ${String(alg)}, typ ${String(typ)}`
  } catch {
    return 'opaque'
  }
}

async function measureSecretVerification(): Promise<{ meshguard: Rate; bcryptjs: Rate }> {
  // Not part of the package's public exports: loaded from its build output.
  const module = new URL('./crypto/client-secret.js', import.meta.resolve('@meshguard/auth-server'))
  const { generateClientSecret, hashClientSecret, verifyClientSecret } = (await import(module.href)) as typeof ClientSecret
  const secret = generateClientSecret()
  const stored = hashClientSecret(secret)
  const bcryptHash = bcrypt.hashSync(secret, BCRYPT_COST)
  if (!verifyClientSecret(secret, stored) || !bcrypt.compareSync(secret, bcryptHash)) throw new Error('a correct secret was not verified')
  return {
    meshguard: measureRate(SECRET_ITERATIONS, () => verifyClientSecret(secret, stored)),
    bcryptjs: measureRate(BCRYPT_ITERATIONS, () => bcrypt.compareSync(secret, bcryptHash)),
  }
}

function measureEs256Signing(): Rate {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  // A signing input the size of a real access token's.
  const input = Buffer.from(
    `${encode({ alg: 'ES256', typ: 'at+jwt', kid: 'x'.repeat(43) })}.${encode({
      iss: 'http://127.0.0.1:4000', sub: 'bench-client', aud: 'bench-api', exp: now + 600, iat: now, nbf: now,
      jti: 'x'.repeat(22), client_id: 'bench-client', scope: 'bench.read',
    })}`,
  )
  return measureRate(ES256_ITERATIONS, () => sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' }))
}
