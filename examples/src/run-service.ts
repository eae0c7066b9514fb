import { pino } from 'pino'
import { grpcPlan } from './grpc/grpc-plan.js'
import { startGrpcService } from './grpc/start-grpc-service.js'
import { startHttpService } from './http/start-http-service.js'
import { servicePlan } from './mesh-plan.js'
import { readServiceConfig } from './runtime/read-service-config.js'
import type { RunningService } from './runtime/service-config.js'

/**
 * `node examples/dist/run-service.js <config.json>`: starts the demo service the file names, as
 * `meshguard up` does for each one, and closes it on SIGTERM or SIGINT. `MESHGUARD_LOG_LEVEL`
 * sets the log level (default `info`).
 */
async function main(argv: readonly string[]): Promise<void> {
  const file = argv[2]
  if (file === undefined || argv.length > 3) throw new Error('usage: node examples/dist/run-service.js <config.json>')
  const config = await readServiceConfig(file)
  const log = pino({ name: config.name, level: process.env.MESHGUARD_LOG_LEVEL ?? 'info' })
  const service: RunningService =
    config.name === grpcPlan.name ? await startGrpcService(config, { logger: log }) : await startHttpService(servicePlan(config.name), config, { logger: log })
  log.info({ service: service.name, tier: config.tier, address: service.address }, `${service.name} listening on ${service.address}`)
  const stop = (signal: NodeJS.Signals) => {
    log.info({ signal }, `${service.name} closing`)
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, `${service.name} did not close cleanly`)
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
