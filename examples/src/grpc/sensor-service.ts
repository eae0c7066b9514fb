import { status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js'
import type { FeedRequest__Output } from './generated/meshguard/demo/FeedRequest.js'
import type { GetReadingRequest__Output } from './generated/meshguard/demo/GetReadingRequest.js'
import type { Reading } from './generated/meshguard/demo/Reading.js'
import type { SensorServiceHandlers } from './generated/meshguard/demo/SensorService.js'
import type { SensorType__Output } from './generated/meshguard/demo/SensorType.js'
import { LiveStreams } from './live-streams.js'

export interface SensorServiceOptions {
  /** Milliseconds between readings of a feed whose request names no interval; default 1,000. */
  feedIntervalMs?: number | undefined
  /** Milliseconds since the epoch; injectable for tests. */
  now?: (() => number) | undefined
}

/** The intervals a feed may ask for, in milliseconds. */
export const FEED_INTERVAL_MS = { min: 50, max: 60_000, default: 1_000 } as const

/** A sensor whose value swings around `base` by up to `swing`, once per `periodMs`. */
interface SimulatedSensor {
  type: SensorType__Output
  /** UCUM. */
  unit: string
  base: number
  swing: number
  periodMs: number
}

/** The sensors the demo simulates, by id. */
export const demoSensors: ReadonlyMap<string, Readonly<SimulatedSensor>> = new Map([
  ['greenhouse-temperature', { type: 'DHT22', unit: 'Cel', base: 21.5, swing: 1.5, periodMs: 60_000 }],
  ['greenhouse-humidity', { type: 'DHT22', unit: '%', base: 55, swing: 6, periodMs: 90_000 }],
  ['garage-distance', { type: 'HC_SR04', unit: 'cm', base: 120, swing: 15, periodMs: 20_000 }],
])

/**
 * `SensorService`: readings of simulated sensors, alone or as a feed that writes one every
 * interval until the client cancels or the call is ended (a revoked token, the service stopping).
 * Authorisation happens before a handler runs, in the service kit's interceptor.
 *
 * @throws TypeError when `feedIntervalMs` is outside {@link FEED_INTERVAL_MS}.
 * @example
 * const sensors = sensorService({ feedIntervalMs: 500 })
 * server.addService(SensorService.service, sensors.handlers)
 */
export function sensorService(options: SensorServiceOptions = {}): { handlers: SensorServiceHandlers; close(): void } {
  const { feedIntervalMs = FEED_INTERVAL_MS.default, now = Date.now } = options
  if (!Number.isInteger(feedIntervalMs) || feedIntervalMs < FEED_INTERVAL_MS.min || feedIntervalMs > FEED_INTERVAL_MS.max) {
    throw new TypeError(`feedIntervalMs must be an integer from ${FEED_INTERVAL_MS.min} to ${FEED_INTERVAL_MS.max}`)
  }
  const feeds = new LiveStreams()

  const handlers: SensorServiceHandlers = {
    GetReading(call: ServerUnaryCall<GetReadingRequest__Output, Reading>, callback: sendUnaryData<Reading>) {
      const found = findSensor(call.request.sensor_id)
      if ('code' in found) callback(found)
      else callback(null, reading(call.request.sensor_id, found, now(), 0))
    },

    Feed(call: ServerWritableStream<FeedRequest__Output, Reading>) {
      const { sensor_id: sensorId, interval_ms: asked } = call.request
      const found = findSensor(sensorId)
      if ('code' in found) {
        call.emit('error', found)
        return
      }
      const intervalMs = asked === 0 ? feedIntervalMs : Math.min(FEED_INTERVAL_MS.max, Math.max(FEED_INTERVAL_MS.min, asked))
      let sequence = 0
      const send = () => {
        call.write(reading(sensorId, found, now(), sequence++))
      }
      const timer = setInterval(send, intervalMs)
      feeds.track(call, () => {
        clearInterval(timer)
      })
      send()
    },
  }

  return {
    handlers,
    close() {
      feeds.endAll('the sensor service is shutting down')
    },
  }
}

function findSensor(id: string): Readonly<SimulatedSensor> | { code: status; details: string } {
  if (id === '') return { code: status.INVALID_ARGUMENT, details: 'sensor_id is required' }
  return demoSensors.get(id) ?? { code: status.NOT_FOUND, details: `no sensor named ${JSON.stringify(id)}` }
}

function reading(sensorId: string, sensor: Readonly<SimulatedSensor>, at: number, sequence: number): Reading {
  const value = sensor.base + sensor.swing * Math.sin((2 * Math.PI * at) / sensor.periodMs)
  return {
    sensor_id: sensorId,
    sensor_type: sensor.type,
    unit: sensor.unit,
    value: Math.round(value * 10) / 10,
    measured_at: new Date(at).toISOString(),
    sequence,
  }
}
