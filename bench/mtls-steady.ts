/**
 * The steady-state half of the mutual TLS benchmark: requests over long-lived HTTP/2 and gRPC
 * connections, with mutual TLS, with TLS but no client certificate, and in clear text, costed
 * in the server's CPU per request, with the connections the server accepted along the way.
 */
import tls from 'node:tls'
import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js'
import { createMtlsAgent, WorkloadIdentity } from '@meshguard/service-kit/tls'
import { mtlsChannelCredentials } from '@meshguard/service-kit/tls/grpc'
import { agentConnection, grpcConnection, h2Connection } from './load-connections.js'
import { measureSteadyLoad, type LoadConnection, type SteadyLoadResult } from './measure-steady-load.js'
import { readWorkload, SERVER_ID, SERVER_NAME, type MtlsFiles } from './mtls-credentials.js'
import type { MtlsServer, MtlsTarget } from './mtls-server.js'
import { formatColumns, formatNumber, formatPercentAdded, median } from './report-table.js'
import { startServerProcess, type ServerProcess } from './server-process.js'

export type SteadyRow = 'h2c' | 'h2-tls' | 'h2-mtls' | 'h2-mtls-caller' | 'h2-mtls-undici' | 'grpc-insecure' | 'grpc-tls' | 'grpc-mtls'
type Security = 'none' | 'tls' | 'mtls'

export interface SteadySettings {
  durationSec: number
  rounds: number
  connections: number
  /** Requests under way at once on each connection. */
  streams: number
  cpuProfDir?: string | undefined
}

/** A row's figures: medians over the rounds, the comparisons per round, connections summed. */
export interface SteadyFigures {
  row: SteadyRow
  perSecond: number
  p50Ms: number
  p99Ms: number
  cpuMicrosPerRequest: number
  /** Per round, CPU per request over the same protocol's TLS-only row (mTLS rows) and clear-text row. */
  vsTls: number[]
  vsPlain: number[]
  /** Requests the server answered and connections it accepted over every run, warm-ups included. */
  requests: number
  connections: number
  /** Connections accepted during the measured runs alone. */
  measuredConnections: number
  /** 1 - connections / requests. */
  reuse: number
  runs: SteadyLoadResult[]
}

export interface SteadyReport {
  rows: SteadyFigures[]
  problems: string[]
}

interface RowSpec {
  protocol: 'HTTP/2' | 'gRPC'
  label: string
  server: MtlsServer
  security: Security
  /** Whether the row's CPU per request is set against the TLS-only and clear-text rows (same client). */
  compared: boolean
}

export const STEADY_ROWS: Record<SteadyRow, RowSpec> = {
  h2c: { protocol: 'HTTP/2', label: 'h2c, clear text', server: 'h2c', security: 'none', compared: true },
  'h2-tls': { protocol: 'HTTP/2', label: 'TLS, no client certificate', server: 'h2-tls', security: 'tls', compared: true },
  'h2-mtls': { protocol: 'HTTP/2', label: 'mTLS + PeerAuthorizer', server: 'h2-mtls', security: 'mtls', compared: true },
  'h2-mtls-caller': { protocol: 'HTTP/2', label: 'mTLS + authorize() per request', server: 'h2-mtls-caller', security: 'mtls', compared: true },
  'h2-mtls-undici': { protocol: 'HTTP/2', label: 'mTLS, client createMtlsAgent', server: 'h2-mtls', security: 'mtls', compared: false },
  'grpc-insecure': { protocol: 'gRPC', label: 'insecure', server: 'grpc-insecure', security: 'none', compared: true },
  'grpc-tls': { protocol: 'gRPC', label: 'createSsl, no client certificate', server: 'grpc-tls', security: 'tls', compared: true },
  'grpc-mtls': { protocol: 'gRPC', label: 'mtlsServerCredentials', server: 'grpc-mtls', security: 'mtls', compared: true },
}
const rows = Object.keys(STEADY_ROWS) as SteadyRow[]
const BASELINES: Record<RowSpec['protocol'], Record<'none' | 'tls', SteadyRow>> = {
  'HTTP/2': { none: 'h2c', tls: 'h2-tls' },
  gRPC: { none: 'grpc-insecure', tls: 'grpc-tls' },
}
const WARMUP_SEC = 2
const SERVER_ENTRY = new URL('./mtls-server.js', import.meta.url)

/** How a row's client connects: one connection each call, and what to close after the run. */
interface RowClient {
  connect(): LoadConnection
  close(): Promise<void>
}

/**
 * Starts one server process per configuration, checks that each answers and that the mutual
 * TLS ones refuse a client without a certificate, then loads every row once per round, in an
 * order rotated each round.
 */
export async function measureSteadyRows(files: MtlsFiles, settings: SteadySettings): Promise<SteadyReport> {
  const problems: string[] = []
  const client = await readWorkload(files, files.client)
  const contexts = { tls: tls.createSecureContext({ ca: client.ca }), mtls: tls.createSecureContext(client) }
  const identity = new WorkloadIdentity({ certificateChainPem: client.cert, privateKeyPem: client.key, trustBundlePem: client.ca })
  const names = [...new Set(rows.map((row) => STEADY_ROWS[row].server))]
  const started = await Promise.all(
    names.map((name) => {
      const execArgv = settings.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', settings.cpuProfDir, '--cpu-prof-name', `mtls-${name}.cpuprofile`]
      return startServerProcess<MtlsTarget>(SERVER_ENTRY, { args: [name, JSON.stringify(files)], execArgv })
    }),
  )
  const servers = new Map<MtlsServer, ServerProcess<MtlsTarget>>(names.map((name, i) => [name, started[i]!]))
  const serverOf = (row: SteadyRow) => servers.get(STEADY_ROWS[row].server)!

  const clientFor = (row: SteadyRow, presentCertificate = true): RowClient => {
    const { port } = serverOf(row).target
    const https = `https://127.0.0.1:${port}`
    const context = presentCertificate ? contexts.mtls : contexts.tls
    const none = () => Promise.resolve()
    switch (row) {
      case 'h2c':
        return { connect: () => h2Connection(`http://127.0.0.1:${port}`), close: none }
      case 'h2-tls':
        return { connect: () => h2Connection(https, { secureContext: contexts.tls, servername: SERVER_NAME }), close: none }
      case 'h2-mtls':
      case 'h2-mtls-caller':
        return { connect: () => h2Connection(https, { secureContext: context, servername: SERVER_NAME }), close: none }
      case 'h2-mtls-undici': {
        const agent = createMtlsAgent(identity, { expect: [SERVER_ID], agent: { allowH2: true, connections: settings.connections } })
        return { connect: () => agentConnection(agent, https), close: () => agent.close() }
      }
      case 'grpc-insecure':
      case 'grpc-tls':
      case 'grpc-mtls': {
        const credentials: ChannelCredentials =
          row === 'grpc-insecure' ? grpcCredentials.createInsecure()
          : row === 'grpc-tls' || !presentCertificate ? grpcCredentials.createSsl(Buffer.from(client.ca))
          : mtlsChannelCredentials(identity, { expect: [SERVER_ID] })
        return { connect: () => grpcConnection(`127.0.0.1:${port}`, credentials), close: none }
      }
    }
  }

  try {
    for (const row of rows) {
      const { label, protocol, security } = STEADY_ROWS[row]
      const answer = await requestOnce(clientFor(row))
      if (answer !== undefined) problems.push(`${protocol} ${label}: ${answer}`)
      // The undici row's server is the h2-mtls row's, and its client always presents a certificate.
      if (security === 'mtls' && row !== 'h2-mtls-undici' && (await requestOnce(clientFor(row, false))) === undefined) {
        problems.push(`${protocol} ${label} answered a client that presented no certificate`)
      }
    }
    if (problems.length > 0) return { rows: [], problems }

    const runs = Object.fromEntries(rows.map((row) => [row, [] as SteadyLoadResult[]])) as Record<SteadyRow, SteadyLoadResult[]>
    for (let round = 0; round < settings.rounds; round += 1) {
      for (let i = 0; i < rows.length; i += 1) {
        const row = rows[(round + i) % rows.length]!
        console.log(`round ${round + 1}/${settings.rounds}: ${STEADY_ROWS[row].protocol} ${STEADY_ROWS[row].label} ...`)
        const rowClient = clientFor(row)
        const server = serverOf(row)
        const run = await measureSteadyLoad({
          connect: () => rowClient.connect(),
          connections: settings.connections,
          streams: settings.streams,
          warmupSec: WARMUP_SEC,
          durationSec: settings.durationSec,
          sampleServer: () => server.sample(),
        })
        await rowClient.close()
        if (run.failures > 0) problems.push(`${STEADY_ROWS[row].protocol} ${STEADY_ROWS[row].label}: ${run.failures} requests failed, the first: ${run.firstFailure}`)
        runs[row].push(run)
      }
    }
    return { rows: summarise(runs), problems }
  } finally {
    await Promise.all(started.map((server) => server.stop()))
  }
}

/** The steady-state table: one line per row. */
export function steadyTable(report: SteadyReport, settings: SteadySettings): string {
  return formatColumns(
    `Reused connections: ${settings.connections} connections x ${settings.streams} requests under way, GET /orders/42 or a unary call ` +
      `(CPU: the server's user + system time per request; vs: its median over rounds of the same round's ratio)`,
    ['protocol', 'server', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'vs TLS', 'vs clear', 'conns', 'requests', 'reuse'],
    report.rows.map((figures) => {
      const spec = STEADY_ROWS[figures.row]
      return [
        spec.protocol,
        spec.label,
        formatNumber(figures.perSecond, 0),
        formatNumber(figures.p50Ms, 2),
        formatNumber(figures.p99Ms, 2),
        formatNumber(figures.cpuMicrosPerRequest, 1),
        spec.security === 'mtls' && spec.compared ? formatPercentAdded(median(figures.vsTls)) : '',
        spec.security !== 'none' && spec.compared ? formatPercentAdded(median(figures.vsPlain)) : '',
        formatNumber(figures.connections, 0),
        formatNumber(figures.requests, 0),
        `${formatNumber(figures.reuse * 100, 3)}%`,
      ]
    }),
  )
}

/** The per-round ratios behind the mutual TLS rows' `vs TLS` column. */
export function steadyRoundLines(report: SteadyReport): string[] {
  return report.rows
    .filter((figures) => STEADY_ROWS[figures.row].security === 'mtls' && STEADY_ROWS[figures.row].compared)
    .map((figures) => `${STEADY_ROWS[figures.row].protocol} ${STEADY_ROWS[figures.row].label}: CPU/req vs TLS per round ${figures.vsTls.map(formatPercentAdded).join(', ')}`)
}

/** One request on a new connection, closed after; undefined when the answer was the expected one. */
async function requestOnce(client: RowClient): Promise<string | undefined> {
  const connection = client.connect()
  try {
    return await connection.request()
  } finally {
    await connection.close()
    await client.close()
  }
}

function summarise(runs: Record<SteadyRow, SteadyLoadResult[]>): SteadyFigures[] {
  const cpuPerRequest = (run: SteadyLoadResult) => (run.server.requests > 0 ? run.server.cpuMicros / run.server.requests : Number.NaN)
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)
  return rows.map((row) => {
    const { protocol } = STEADY_ROWS[row]
    const perRequest = runs[row].map(cpuPerRequest)
    const against = (baseline: SteadyRow) => perRequest.map((micros, round) => micros / cpuPerRequest(runs[baseline][round]!))
    const requests = sum(runs[row].map((run) => run.serverRun.requests))
    const connections = sum(runs[row].map((run) => run.serverRun.connections))
    return {
      row,
      perSecond: median(runs[row].map((run) => run.perSecond)),
      p50Ms: median(runs[row].map((run) => run.p50Ms)),
      p99Ms: median(runs[row].map((run) => run.p99Ms)),
      cpuMicrosPerRequest: median(perRequest),
      vsTls: against(BASELINES[protocol].tls),
      vsPlain: against(BASELINES[protocol].none),
      requests,
      connections,
      measuredConnections: sum(runs[row].map((run) => run.server.connections)),
      reuse: requests > 0 ? 1 - connections / requests : Number.NaN,
      runs: runs[row],
    }
  })
}
