import { isIP } from 'node:net'
import { Server, ServerCredentials } from '@grpc/grpc-js'
import { pino, type Logger } from 'pino'
import type { RunningService, ServiceRuntimeConfig } from '../runtime/service-config.js'
import { articleService } from './article-service.js'
import { loadDemoProtos } from './load-demo-protos.js'
import { orderService } from './order-service.js'
import { sensorService } from './sensor-service.js'
import { hostPort } from '../runtime/service-lifecycle.js'

export interface UnsecuredGrpcServiceOptions {
  /** Must be `true`: the caller's statement that this is a benchmark's baseline, which authenticates nobody. */
  benchmarkOnly: true
  /** As `startGrpcService`'s. */
  feedIntervalMs?: number | undefined
  /** As `startGrpcService`'s; default 5,000 ms. */
  shutdownGraceMs?: number | undefined
  /** Default: pino at `info`, named after the service. */
  logger?: Logger | undefined
}

/**
 * For benchmarks only: the baseline the security tiers are measured against; `meshguard up` never
 * uses it. Starts the demo's gRPC services with security switched off: the same handlers as
 * `startGrpcService` (`SensorService`, `ArticleService`, `OrderService`) in one server, in
 * plaintext on loopback, with no interceptors: no token read or verified, no call reports.
 *
 * @throws TypeError unless `options.benchmarkOnly` is `true`, or when the host is not loopback.
 * @example
 * const grpc = await startUnsecuredGrpcService({ name: 'grpc-demo', host: '127.0.0.1', port: 0 }, { benchmarkOnly: true })
 */
export async function startUnsecuredGrpcService(config: Pick<ServiceRuntimeConfig, 'name' | 'host' | 'port'>, options: UnsecuredGrpcServiceOptions): Promise<RunningService> {
  if ((options as { benchmarkOnly?: unknown } | undefined)?.benchmarkOnly !== true) {
    throw new TypeError('startUnsecuredGrpcService authenticates nobody and is for benchmarks only: pass { benchmarkOnly: true }')
  }
  const { feedIntervalMs, shutdownGraceMs = 5_000, logger = pino({ name: config.name }) } = options
  if (!isLoopback(config.host)) throw new TypeError(`an unsecured service listens on loopback only, not ${config.host}`)
  if (!Number.isInteger(shutdownGraceMs) || shutdownGraceMs < 0) throw new TypeError('shutdownGraceMs must be a non-negative integer')
  logger.warn('security switched off: a benchmark baseline, authenticating nobody')
  const protos = loadDemoProtos()
  const sensors = sensorService({ feedIntervalMs })
  const orders = orderService()
  const server = new Server()
  server.addService(protos.SensorService.service, sensors.handlers)
  server.addService(protos.ArticleService.service, articleService())
  server.addService(protos.OrderService.service, orders.handlers)
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${config.host}:${config.port}`, ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(err)
      else resolve(bound)
    })
  })
  const close = () =>
    new Promise<void>((resolve) => {
      sensors.close()
      orders.close()
      const force = setTimeout(() => {
        server.forceShutdown()
        resolve()
      }, shutdownGraceMs)
      server.tryShutdown(() => {
        clearTimeout(force)
        resolve()
      })
    })
  let closing: Promise<void> | undefined
  return {
    name: config.name,
    address: hostPort(config.host, port),
    close: () => (closing ??= close()),
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))
}
