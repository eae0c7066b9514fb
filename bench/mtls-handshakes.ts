/**
 * The handshake half of the mutual TLS benchmark: full and resumed TLS 1.3 handshakes with
 * ECDSA P-256 certificates and a client certificate required, against Node's TLS server built
 * with the service kit's options (with and without its `PeerAuthorizer`) and against
 * `openssl s_server`, each driven by Node's TLS client and by `openssl s_time`.
 */
import tls from 'node:tls'
import { connectOnce, measureHandshakes, type HandshakeMode, type NegotiatedTls } from './measure-handshakes.js'
import { readWorkload, type MtlsFiles } from './mtls-credentials.js'
import type { MtlsServer, MtlsTarget } from './mtls-server.js'
import { checkWithSClient, runSTime, startOpensslServer } from './openssl-peer.js'
import { formatColumns, formatNumber, median } from './report-table.js'
import { startServerProcess, type ServerUsage } from './server-process.js'

export type HandshakeServer = 'node' | 'node-authorizer' | 'openssl'
export type HandshakeClient = 'node' | 's_time'

export interface HandshakeSettings {
  durationSec: number
  rounds: number
  /** Connections the Node client keeps under way at once (s_time makes one at a time). */
  concurrency: number
  /** Where Node servers write `--cpu-prof` profiles, when asked. */
  cpuProfDir?: string | undefined
}

/** One measured run of a cell. */
export interface HandshakeRun {
  perSecond: number
  handshakes: number
  /** The server's CPU time over the run, microseconds. */
  serverCpuMicros: number
  /** The client's, for the Node client (this process); NaN for s_time. */
  clientCpuMicros: number
  resumed: number
  notResumed: number
  failures: number
  firstFailure?: string | undefined
}

/** A server, a client and a kind of handshake, with its figures: medians over the rounds. */
export interface HandshakeFigures {
  server: HandshakeServer
  client: HandshakeClient
  mode: HandshakeMode
  perSecond: number
  serverCpuMicrosPerHandshake: number
  /** 1,000,000 / the above: handshakes one core of the server could make each second. */
  perServerCoreSecond: number
  clientCpuMicrosPerHandshake: number
  /** Connections offered a session that did not resume it, over all rounds. */
  notResumed: number
  runs: HandshakeRun[]
}

export interface HandshakeReport {
  /** TLS version, cipher and key-exchange group each server negotiated with the Node client. */
  negotiated: Partial<Record<HandshakeServer, NegotiatedTls>>
  cells: HandshakeFigures[]
  notes: string[]
  problems: string[]
}

export const HANDSHAKE_SERVERS: Record<HandshakeServer, string> = {
  node: 'node tls, service kit options',
  'node-authorizer': 'node tls + PeerAuthorizer',
  openssl: 'openssl s_server',
}
const NODE_SERVERS: Record<Exclude<HandshakeServer, 'openssl'>, MtlsServer> = { node: 'tls', 'node-authorizer': 'tls-authorizer' }
const PAIRS: ReadonlyArray<readonly [HandshakeServer, HandshakeClient]> = [
  ['node', 'node'],
  ['node-authorizer', 'node'],
  ['openssl', 'node'],
  ['node', 's_time'],
  ['openssl', 's_time'],
]
const MODES: readonly HandshakeMode[] = ['full', 'resumed']
const WARMUP_SEC = 1
const SERVER_ENTRY = new URL('./mtls-server.js', import.meta.url)

interface Endpoint {
  port: number
  sample(): Promise<ServerUsage>
  stop(): Promise<void>
}

/**
 * Starts the three servers, checks each (openssl s_client verifies it and gets the page; Node's
 * client gets the page and resumes; a client without a certificate is refused), warms them up,
 * then measures every cell once per round, in an order rotated each round.
 */
export async function measureHandshakeCells(files: MtlsFiles, settings: HandshakeSettings): Promise<HandshakeReport> {
  const problems: string[] = []
  const notes: string[] = []
  const { cert, key, ca } = await readWorkload(files, files.client)
  const withCertificate = tls.createSecureContext({ cert, key, ca })
  const withoutCertificate = tls.createSecureContext({ ca })
  const started = await Promise.allSettled([startNode('node', files, settings), startNode('node-authorizer', files, settings), startOpensslServer(files)])
  const failed = started.find((result) => result.status === 'rejected')
  if (failed !== undefined) {
    // openssl s_server would outlive this process.
    await Promise.all(started.flatMap((result) => (result.status === 'fulfilled' ? [result.value.stop()] : [])))
    throw failed.reason
  }
  const [node, authorizer, openssl] = started.map((result) => (result as PromiseFulfilledResult<Endpoint>).value) as [Endpoint, Endpoint, Endpoint]
  const endpoints: Record<HandshakeServer, Endpoint> = { node, 'node-authorizer': authorizer, openssl }
  const negotiated: HandshakeReport['negotiated'] = {}
  try {
    for (const server of Object.keys(endpoints) as HandshakeServer[]) {
      const label = HANDSHAKE_SERVERS[server]
      const { port } = endpoints[server]
      const sClient = await checkWithSClient(files, port)
      if (sClient !== undefined) problems.push(`${label}: ${sClient}`)
      const anonymous = await connectOnce(port, withoutCertificate)
      if (anonymous.failure === undefined) problems.push(`${label} answered a client that presented no certificate`)
      const first = await connectOnce(port, withCertificate)
      const second = await connectOnce(port, withCertificate, first.session)
      for (const outcome of [first, second]) if (outcome.failure !== undefined) problems.push(`${label}: ${outcome.failure}`)
      if (first.session === undefined || !second.reused) notes.push(`${label} did not resume the session of the connection before`)
      if (first.negotiated) negotiated[server] = first.negotiated
    }
    const [nodeTls, opensslTls] = [negotiated.node, negotiated.openssl].map((n) => n && `${n.protocol} ${n.cipher} ${n.group}`)
    if (nodeTls !== opensslTls) notes.push(`the servers negotiated different parameters: node ${nodeTls}, openssl ${opensslTls}`)
    if (problems.length > 0) return { negotiated, cells: [], notes, problems }

    for (const endpoint of Object.values(endpoints)) {
      for (const mode of MODES) await measureHandshakes({ ...nodeClient(endpoint, mode), warmupSec: 0, durationSec: WARMUP_SEC })
    }
    const cells = PAIRS.flatMap(([server, client]) => MODES.map((mode) => ({ server, client, mode, runs: [] as HandshakeRun[] })))
    for (let round = 0; round < settings.rounds; round += 1) {
      for (let i = 0; i < cells.length; i += 1) {
        const cell = cells[(round + i) % cells.length]!
        console.log(`round ${round + 1}/${settings.rounds}: ${cell.mode} handshakes, ${cell.client === 'node' ? 'node client' : 'openssl s_time'} -> ${HANDSHAKE_SERVERS[cell.server]} ...`)
        const run = await measureCell(cell.client, cell.mode, endpoints[cell.server])
        if (run.failures > 0) problems.push(`${cell.mode} handshakes, ${cell.client} -> ${HANDSHAKE_SERVERS[cell.server]}: ${run.failures} failed connections, the first: ${run.firstFailure}`)
        cell.runs.push(run)
      }
    }
    return { negotiated, cells: cells.map(summarise), notes, problems }
  } finally {
    await Promise.all(Object.values(endpoints).map((endpoint) => endpoint.stop()))
  }

  function nodeClient(endpoint: Endpoint, mode: HandshakeMode) {
    return { port: endpoint.port, secureContext: withCertificate, mode, concurrency: settings.concurrency, sampleServer: () => endpoint.sample() }
  }

  async function measureCell(client: HandshakeClient, mode: HandshakeMode, endpoint: Endpoint): Promise<HandshakeRun> {
    if (client === 'node') {
      const { server: usage, ...figures } = await measureHandshakes({ ...nodeClient(endpoint, mode), warmupSec: WARMUP_SEC, durationSec: settings.durationSec })
      return { ...figures, serverCpuMicros: usage.cpuMicros }
    }
    const before = await endpoint.sample()
    const run = await runSTime(files, endpoint.port, mode, settings.durationSec)
    const after = await endpoint.sample()
    return {
      perSecond: run.perSecond,
      handshakes: run.connections,
      serverCpuMicros: after.cpuMicros - before.cpuMicros,
      clientCpuMicros: Number.NaN,
      resumed: mode === 'resumed' ? run.resumed : 0,
      notResumed: mode === 'resumed' ? run.connections - run.resumed : 0,
      failures: run.failure === undefined ? 0 : 1,
      firstFailure: run.failure,
    }
  }
}

/**
 * The handshake tables: every cell, then Node's server against openssl s_server with the same
 * client, as ratios.
 */
export function handshakeTables(report: HandshakeReport, settings: HandshakeSettings): string[] {
  const clientLabel = (client: HandshakeClient) => (client === 'node' ? `node tls.connect x${settings.concurrency}` : 'openssl s_time x1')
  const n = report.negotiated.node
  const byCell = formatColumns(
    `Handshakes with a client certificate, ${n ? `${n.protocol}, ${n.cipher}, ${n.group}` : 'TLS 1.3'}, ECDSA P-256 chains (CPU: the server process's user + system time per handshake)`,
    ['server', 'client', 'handshake', 'handshakes/s', 'server CPU µs', 'per server core/s', 'client CPU µs', 'not resumed'],
    report.cells.map((cell) => [
      HANDSHAKE_SERVERS[cell.server],
      clientLabel(cell.client),
      cell.mode,
      formatNumber(cell.perSecond, 0),
      formatNumber(cell.serverCpuMicrosPerHandshake, 0),
      formatNumber(cell.perServerCoreSecond, 0),
      Number.isNaN(cell.clientCpuMicrosPerHandshake) ? '' : formatNumber(cell.clientCpuMicrosPerHandshake, 0),
      cell.mode === 'resumed' ? formatNumber(cell.notResumed, 0) : '',
    ]),
  )
  const find = (server: HandshakeServer, client: HandshakeClient, mode: HandshakeMode) =>
    report.cells.find((cell) => cell.server === server && cell.client === client && cell.mode === mode)
  const rows: string[][] = []
  for (const client of ['node', 's_time'] as const) {
    for (const mode of MODES) {
      const node = find('node', client, mode)
      const openssl = find('openssl', client, mode)
      if (!node || !openssl) continue
      const row = (metric: string, a: number, b: number) => [metric, formatNumber(a, 0), formatNumber(b, 0), `${formatNumber(a / b, 2)}x`]
      rows.push(row(`${mode} handshakes/s, ${clientLabel(client)}`, node.perSecond, openssl.perSecond))
      rows.push(row(`  server CPU µs per ${mode} handshake`, node.serverCpuMicrosPerHandshake, openssl.serverCpuMicrosPerHandshake))
      rows.push(row(`  ${mode} handshakes per server core/s`, node.perServerCoreSecond, openssl.perServerCoreSecond))
    }
  }
  const versusOpenssl = formatColumns(
    'Node with the service kit options against openssl s_server, same client (ratio = node / openssl; for CPU, lower is better)',
    ['metric', 'node', 'openssl', 'ratio'],
    rows,
  )
  return [byCell, versusOpenssl]
}

async function startNode(server: Exclude<HandshakeServer, 'openssl'>, files: MtlsFiles, settings: HandshakeSettings): Promise<Endpoint> {
  const name = NODE_SERVERS[server]
  const execArgv = settings.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', settings.cpuProfDir, '--cpu-prof-name', `mtls-${name}.cpuprofile`]
  const child = await startServerProcess<MtlsTarget>(SERVER_ENTRY, { args: [name, JSON.stringify(files)], execArgv })
  return { port: child.target.port, sample: () => child.sample(), stop: () => child.stop() }
}

function summarise(cell: { server: HandshakeServer; client: HandshakeClient; mode: HandshakeMode; runs: HandshakeRun[] }): HandshakeFigures {
  const serverCpu = median(cell.runs.map((run) => run.serverCpuMicros / run.handshakes))
  return {
    server: cell.server,
    client: cell.client,
    mode: cell.mode,
    perSecond: median(cell.runs.map((run) => run.perSecond)),
    serverCpuMicrosPerHandshake: serverCpu,
    perServerCoreSecond: 1e6 / serverCpu,
    clientCpuMicrosPerHandshake: median(cell.runs.map((run) => run.clientCpuMicros / run.handshakes)),
    notResumed: cell.runs.reduce((sum, run) => sum + run.notResumed, 0),
    runs: cell.runs,
  }
}
