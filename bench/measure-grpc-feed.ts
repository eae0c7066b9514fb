import { createHistogram, performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChannelCredentials, ClientReadableStream } from '@grpc/grpc-js'
import { grpcDemoClient, type GrpcDemoClient } from '@meshguard/examples'
import { BENCH_SENSOR } from './mesh-load.js'
import { usageBetween, type ServerUsage } from './server-process.js'

export interface FeedLoadOptions {
  /** The gRPC process's `host:port`. */
  address: string
  /** The credentials of one channel; called once per channel. */
  credentials: () => ChannelCredentials
  /** The bearer token every stream is opened with, when given. */
  token: string | undefined
  /** Channels, each its own connection; the streams are spread over them. */
  channels: number
  /** Streams open at once, in all. */
  streams: number
  /** The interval each stream asks for (`FeedRequest.interval_ms`). */
  intervalMs: number
  warmupSec: number
  durationSec: number
  /** The server's running totals, sampled either side of the measured run. */
  sampleServer: () => Promise<ServerUsage>
}

export interface FeedLoadResult {
  /** Readings received per second of the measured run, over every stream. */
  perSecond: number
  /** What `streams` streams at `intervalMs` would deliver per second if every timer fired on time. */
  offeredPerSecond: number
  messages: number
  /** Time between two readings of the same stream in the measured run, milliseconds. */
  gapP50Ms: number
  gapP99Ms: number
  /** Streams that ended, or readings out of sequence, before the benchmark cancelled them; with the first reason. */
  failures: number
  firstFailure?: string | undefined
  server: ServerUsage
}

/**
 * Opens `streams` `SensorService/Feed` streams of {@link BENCH_SENSOR} at `intervalMs` over
 * `channels` channels, lets them run for a warm-up, then counts the readings of the measured run
 * and the time between consecutive readings of each stream. The server writes one reading per
 * stream per interval, on a timer, so the rate is set by the streams and the interval; the
 * server's CPU per reading is the figure that compares servers.
 */
export async function measureFeed(options: FeedLoadOptions): Promise<FeedLoadResult> {
  const clients: GrpcDemoClient[] = Array.from({ length: options.channels }, () =>
    grpcDemoClient(options.address, {
      credentials: options.credentials(),
      token: options.token === undefined ? undefined : () => options.token!,
      channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
    }),
  )
  const gaps = createHistogram()
  let measuring = false
  let stopping = false
  let messages = 0
  let failures = 0
  let firstFailure: string | undefined
  const fail = (reason: string) => {
    failures += 1
    firstFailure ??= reason
  }
  const calls: Array<ClientReadableStream<unknown>> = []
  for (let i = 0; i < options.streams; i += 1) {
    const call = clients[i % clients.length]!.sensors.Feed({ sensor_id: BENCH_SENSOR, interval_ms: options.intervalMs })
    let expected = 0
    let last = 0n
    call.on('data', (reading: { sequence: number | string }) => {
      const now = process.hrtime.bigint()
      if (Number(reading.sequence) !== expected) fail(`reading ${String(reading.sequence)} where ${expected} was due`)
      expected = Number(reading.sequence) + 1
      if (measuring) {
        messages += 1
        if (last !== 0n) gaps.record(now - last)
      }
      last = now
    })
    call.on('error', (err: { code?: number; details?: string }) => {
      if (!stopping) fail(`stream ended: gRPC ${String(err.code)} ${String(err.details)}`)
    })
    calls.push(call)
  }
  try {
    await sleep(options.warmupSec * 1000)
    const before = await options.sampleServer()
    const start = performance.now()
    measuring = true
    await sleep(options.durationSec * 1000)
    measuring = false
    const seconds = (performance.now() - start) / 1000
    const after = await options.sampleServer()
    return {
      perSecond: messages / seconds,
      offeredPerSecond: (options.streams * 1000) / options.intervalMs,
      messages,
      gapP50Ms: gaps.count > 0 ? gaps.percentile(50) / 1e6 : Number.NaN,
      gapP99Ms: gaps.count > 0 ? gaps.percentile(99) / 1e6 : Number.NaN,
      failures,
      firstFailure,
      server: usageBetween(before, after),
    }
  } finally {
    stopping = true
    for (const call of calls) call.cancel()
    for (const client of clients) client.close()
  }
}
