import { createHistogram, performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { usageBetween, type ServerUsage } from './server-process.js'

/** A long-lived connection (or a client that keeps its own) the load sends requests over. */
export interface LoadConnection {
  /** One request; resolves to undefined when the answer was the expected one, else what went wrong. */
  request(): Promise<string | undefined>
  /** True once it will carry no more requests (closed, GOAWAY): the load opens another in its place. */
  readonly closed: boolean
  close(): Promise<void>
}

export interface SteadyLoadOptions {
  /** Opens one connection; called `connections` times, and again for each that closes. */
  connect(): LoadConnection
  connections: number
  /** Requests under way at once on each connection. */
  streams: number
  warmupSec: number
  durationSec: number
  /** The server's running totals: sampled before the first connection, and either side of the measured run. */
  sampleServer: () => Promise<ServerUsage>
}

/** The measured run's figures; failures count the warm-up too. */
export interface SteadyLoadResult {
  /** Expected answers per second of the measured run. */
  perSecond: number
  p50Ms: number
  p99Ms: number
  responses: number
  /** Requests that failed or got another answer, with the first reason. */
  failures: number
  firstFailure?: string | undefined
  /** Connections this side opened over the whole run (warm-up included). */
  clientConnections: number
  /** What the server spent and served in the measured run. */
  server: ServerUsage
  /** The same over the whole run, from before the first connection: for connection reuse. */
  serverRun: ServerUsage
}

/**
 * Keeps `streams` requests under way on each of `connections` connections for a warm-up, then
 * for the measured run; a connection that closes is replaced, and counted. Latency is measured
 * per request in the measured run.
 *
 * @example
 * const result = await measureSteadyLoad({ connect: () => h2Connection(url, options), connections: 4, streams: 16, warmupSec: 2, durationSec: 5, sampleServer })
 */
export async function measureSteadyLoad(options: SteadyLoadOptions): Promise<SteadyLoadResult> {
  const runStart = await options.sampleServer()
  const latency = createHistogram()
  let measuring = false
  let stopping = false
  let responses = 0
  let failures = 0
  let firstFailure: string | undefined
  let clientConnections = 0
  const open = () => {
    clientConnections += 1
    return options.connect()
  }
  const slots = Array.from({ length: options.connections }, () => ({ connection: open() }))
  const stream = async (slot: { connection: LoadConnection }) => {
    while (!stopping) {
      if (slot.connection.closed) {
        const closed = slot.connection
        slot.connection = open()
        await closed.close()
      }
      const start = process.hrtime.bigint()
      const failure = await slot.connection.request()
      if (failure !== undefined) {
        failures += 1
        firstFailure ??= failure
      } else if (measuring) {
        responses += 1
        latency.record(process.hrtime.bigint() - start)
      }
    }
  }
  const streams = slots.flatMap((slot) => Array.from({ length: options.streams }, () => stream(slot)))
  await sleep(options.warmupSec * 1000)
  const before = await options.sampleServer()
  const start = performance.now()
  measuring = true
  await sleep(options.durationSec * 1000)
  measuring = false
  const seconds = (performance.now() - start) / 1000
  const after = await options.sampleServer()
  stopping = true
  await Promise.all(streams)
  await Promise.all(slots.map((slot) => slot.connection.close()))
  return {
    perSecond: responses / seconds,
    p50Ms: latency.percentile(50) / 1e6,
    p99Ms: latency.percentile(99) / 1e6,
    responses,
    failures,
    firstFailure,
    clientConnections,
    server: usageBetween(before, after),
    serverRun: usageBetween(runStart, after),
  }
}
