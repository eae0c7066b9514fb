/**
 * One service of the mesh benchmark in its own process, started as examples/src/run-service.ts
 * starts it for `meshguard up`: `mesh-service.js tier <config.json>` reads the configuration with
 * `readServiceConfig` and runs `startHttpService` (or `startGrpcService` for `grpc-demo`), which
 * refuses a configuration weaker than its tier; `mesh-service.js off <config.json>` runs the
 * same service through `startUnsecuredHttpService` (or `startUnsecuredGrpcService`), the
 * benchmark-only baseline with security switched off, from `{ name, host, port, peers }`.
 * Logs at `warn` go to a pipe the parent shows only if the process fails.
 */
import { readFile } from 'node:fs/promises'
import { pino } from 'pino'
import {
  grpcPlan,
  readServiceConfig,
  servicePlan,
  startGrpcService,
  startHttpService,
  startUnsecuredGrpcService,
  startUnsecuredHttpService,
  type RunningService,
  type UnsecuredHttpServiceConfig,
} from '@meshguard/examples'
import { serveBench } from './server-process.js'

/** What the process reports once its service listens. */
export interface MeshServiceTarget {
  name: string
  /** A base URL, or `host:port` for gRPC. */
  address: string
}

const [mode, file] = process.argv.slice(2)
if ((mode !== 'tier' && mode !== 'off') || file === undefined) throw new Error('usage: mesh-service.js tier|off <config.json>')
const service = mode === 'tier' ? await startSecured(file) : await startUnsecured(file)
serveBench<MeshServiceTarget>({ name: service.name, address: service.address }, () => service.close())

async function startSecured(configFile: string): Promise<RunningService> {
  const config = await readServiceConfig(configFile)
  const logger = pino({ name: config.name, level: 'warn' })
  return config.name === grpcPlan.name ? startGrpcService(config, { logger }) : startHttpService(servicePlan(config.name), config, { logger })
}

async function startUnsecured(configFile: string): Promise<RunningService> {
  const config = JSON.parse(await readFile(configFile, 'utf8')) as UnsecuredHttpServiceConfig
  const logger = pino({ name: config.name, level: 'warn' })
  return config.name === grpcPlan.name
    ? startUnsecuredGrpcService(config, { benchmarkOnly: true, logger })
    : startUnsecuredHttpService(servicePlan(config.name), config, { benchmarkOnly: true, logger })
}
