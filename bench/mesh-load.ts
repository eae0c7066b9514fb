import type { ChannelCredentials } from '@grpc/grpc-js'
import { grpcDemoClient } from '@meshguard/examples'
import type { Dispatcher } from 'undici'
import type { LoadConnection } from './measure-steady-load.js'
import type { ServerUsage } from './server-process.js'

/** The sensor every gRPC call of the benchmark reads. */
export const BENCH_SENSOR = 'greenhouse-temperature'

/**
 * Requests through one undici dispatcher shared by every slot of the load (it keeps one
 * connection per request under way, up to its `connections`): `GET path` with `headers`, which
 * must answer 200 with exactly `expected`.
 */
export function summaryConnection(dispatcher: Dispatcher, origin: string, path: string, headers: Record<string, string>, expected: string): LoadConnection {
  return {
    closed: false,
    request: async () => {
      try {
        const { statusCode, body } = await dispatcher.request({ origin, path, method: 'GET', headers })
        const text = await body.text()
        return statusCode === 200 && text === expected ? undefined : `HTTP ${statusCode}: ${text.slice(0, 300)}`
      } catch (err) {
        return `undici: ${err instanceof Error ? err.message : String(err)}`
      }
    },
    // Closed once by whoever made it.
    close: () => Promise.resolve(),
  }
}

/**
 * One demo gRPC client (`grpcDemoClient`) with its own subchannel, so its own connection, each
 * request a `SensorService/GetReading` of {@link BENCH_SENSOR}, with `token` as the bearer token
 * when given; it must answer a reading of that sensor.
 */
export function readingConnection(address: string, credentials: ChannelCredentials, token: string | undefined): LoadConnection {
  const client = grpcDemoClient(address, {
    credentials,
    token: token === undefined ? undefined : () => token,
    channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
  })
  return {
    closed: false,
    request: () =>
      new Promise((resolve) => {
        client.sensors.GetReading({ sensor_id: BENCH_SENSOR }, (err, reading) => {
          if (err) resolve(`gRPC ${err.code}: ${err.details}`)
          else resolve(reading?.sensor_id === BENCH_SENSOR ? undefined : `gRPC reading of ${String(reading?.sensor_id)}`)
        })
      }),
    close: () => {
      client.close()
      return Promise.resolve()
    },
  }
}

/** The running totals of several processes at one moment, and their sum. */
export interface GroupSample {
  total: ServerUsage
  each: ServerUsage[]
}

/**
 * Samples several processes at once and remembers every sample, so that a caller handing
 * `sample` to a measurement can read each process's share between the last two afterwards.
 */
export class GroupSampler {
  readonly #samplers: ReadonlyArray<() => Promise<ServerUsage>>
  readonly samples: GroupSample[] = []

  constructor(samplers: ReadonlyArray<() => Promise<ServerUsage>>) {
    this.#samplers = samplers
  }

  readonly sample = async (): Promise<ServerUsage> => {
    const each = await Promise.all(this.#samplers.map((sample) => sample()))
    const total = each.reduce((sum, usage) => ({ cpuMicros: sum.cpuMicros + usage.cpuMicros, requests: sum.requests + usage.requests, connections: sum.connections + usage.connections }))
    this.samples.push({ total, each })
    return total
  }

  /** Each process's CPU microseconds between the last two samples. */
  lastCpuMicros(): number[] {
    const [before, after] = this.samples.slice(-2)
    if (before === undefined || after === undefined) return []
    return after.each.map((usage, i) => usage.cpuMicros - before.each[i]!.cpuMicros)
  }
}
