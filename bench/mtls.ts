/**
 * Mutual TLS benchmark (issue 4). First, full and resumed TLS 1.3 handshakes per second with
 * ECDSA P-256 certificates and a client certificate required, Node's TLS server built with the
 * service kit's options beside openssl s_server, each driven by Node's client and by
 * openssl s_time (mtls-handshakes.ts). Then requests over long-lived HTTP/2 and gRPC
 * connections with mutual TLS, with TLS alone and in clear text (mtls-steady.ts). Every server
 * runs in its own process on loopback, with certificates from a CA made by `initCa` in a
 * temporary directory; CPU per handshake and per request is measured in the server process.
 *
 * Usage: node bench/dist/mtls.js [--seconds 5] [--rounds 3] [--concurrency 4] [--connections 4] [--streams 16] [--cpu-prof]
 * Exits non-zero when a handshake did not verify, a connection or request failed, or a server did
 * not answer the correctness checks as expected. The figures themselves are never checked.
 */
import { execFileSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { failWith, writeReport } from './bench-report.js'
import { createMtlsFiles, removeMtlsFiles } from './mtls-credentials.js'
import { handshakeTables, HANDSHAKE_SERVERS, measureHandshakeCells, type HandshakeReport, type HandshakeSettings } from './mtls-handshakes.js'
import { measureSteadyRows, STEADY_ROWS, steadyRoundLines, steadyTable, type SteadyReport, type SteadySettings } from './mtls-steady.js'
import { formatColumns, formatNumber, formatPercentAdded, median } from './report-table.js'

/** Issue 4's targets: handshakes per core, connection reuse under steady load, and what mTLS adds per request. */
const TARGETS = { fullPerCore: 500, resumedPerCore: 1_000, reuse: 0.99, mtlsAdded: 0.1 } as const
const resultsDir = new URL('../results/', import.meta.url)

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    connections: { type: 'string', default: '4' },
    streams: { type: 'string', default: '16' },
    'cpu-prof': { type: 'boolean', default: false },
  },
})
const durationSec = wholeNumber('seconds', flags.seconds)
const rounds = wholeNumber('rounds', flags.rounds)
const cpuProfDir = flags['cpu-prof'] ? fileURLToPath(new URL('profiles/', resultsDir)) : undefined
const handshakeSettings: HandshakeSettings = { durationSec, rounds, concurrency: wholeNumber('concurrency', flags.concurrency), cpuProfDir }
const steadySettings: SteadySettings = { durationSec, rounds, connections: wholeNumber('connections', flags.connections), streams: wholeNumber('streams', flags.streams), cpuProfDir }

const cores = availableParallelism()
const cpu = cpus()[0]?.model ?? 'unknown CPU'
const opensslCli = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim()
console.log(
  `node ${process.version} (OpenSSL ${process.versions.openssl}), ${opensslCli}, ${cores} cores (${cpu}); loopback, ` +
    `${durationSec} s per measured run, ${rounds} alternating rounds\n`,
)
if (cpuProfDir !== undefined) await mkdir(cpuProfDir, { recursive: true })

const files = await createMtlsFiles()
let handshakes: HandshakeReport
let steady: SteadyReport = { rows: [], problems: [] }
try {
  handshakes = await measureHandshakeCells(files, handshakeSettings)
  // Unless a server failed the checks before any handshake was measured.
  if (handshakes.cells.length > 0) steady = await measureSteadyRows(files, steadySettings)
} finally {
  await removeMtlsFiles(files)
}
const problems = [...handshakes.problems, ...steady.problems]
const notes = [...handshakes.notes]

const output: string[] = handshakes.cells.length > 0 ? handshakeTables(handshakes, handshakeSettings) : []
if (steady.rows.length > 0) output.push(steadyTable(steady, steadySettings))
const targets = targetLines()
if (targets.length > 0) output.push(formatColumns("Issue 4's targets (printed, never checked)", ['target', 'measured', ''], targets))
console.log(`\n${output.join('\n\n')}\n`)
for (const [server, tls] of Object.entries(handshakes.negotiated)) {
  console.log(`${HANDSHAKE_SERVERS[server as keyof typeof HANDSHAKE_SERVERS]} negotiated ${tls.protocol}, ${tls.cipher}, ${tls.group} with the node client`)
}
for (const line of steadyRoundLines(steady)) console.log(line)
for (const note of notes) console.log(`note: ${note}`)

await mkdir(resultsDir, { recursive: true })
const jsonFile = new URL('mtls.json', resultsDir)
const report = {
  date: new Date().toISOString(),
  environment: { node: process.version, nodeOpenssl: process.versions.openssl, opensslCli, cores, cpu, platform: `${process.platform}-${process.arch}` },
  settings: { handshakes: handshakeSettings, steady: steadySettings },
  targets: TARGETS,
  handshakes,
  steady,
  notes,
  problems,
}
await writeReport(jsonFile, report)

if (problems.length > 0) failWith(problems)

/** Each target beside the figure it is read against. */
function targetLines(): string[][] {
  const lines: string[][] = []
  const verdict = (met: boolean) => (met ? 'met' : 'not met')
  for (const [mode, target] of [['full', TARGETS.fullPerCore], ['resumed', TARGETS.resumedPerCore]] as const) {
    const cell = handshakes.cells.find((c) => c.server === 'node' && c.client === 'node' && c.mode === mode)
    if (!cell) continue
    lines.push([`${mode} handshakes per server core/s, node, at least ${formatNumber(target, 0)}`, formatNumber(cell.perServerCoreSecond, 0), verdict(cell.perServerCoreSecond >= target)])
  }
  if (steady.rows.length > 0) {
    const worst = steady.rows.reduce((a, b) => (b.reuse < a.reuse ? b : a))
    const label = `${STEADY_ROWS[worst.row].protocol} ${STEADY_ROWS[worst.row].label}`
    lines.push([`connection reuse under steady load, over ${TARGETS.reuse * 100}% (lowest row)`, `${formatNumber(worst.reuse * 100, 3)}% (${label})`, verdict(worst.reuse > TARGETS.reuse)])
  }
  for (const row of ['h2-mtls', 'h2-mtls-caller', 'grpc-mtls'] as const) {
    const figures = steady.rows.find((r) => r.row === row)
    if (!figures) continue
    const { protocol, label } = STEADY_ROWS[row]
    const vsTls = median(figures.vsTls)
    lines.push([`${protocol} ${label}: CPU/request over TLS alone, at most +${TARGETS.mtlsAdded * 100}%`, formatPercentAdded(vsTls), verdict(vsTls <= 1 + TARGETS.mtlsAdded)])
    lines.push([`  over clear text (for reference)`, formatPercentAdded(median(figures.vsPlain)), ''])
  }
  return lines
}

function wholeNumber(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`--${flag} must be a whole number, at least 1`)
  return n
}
