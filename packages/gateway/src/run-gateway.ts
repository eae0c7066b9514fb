import { pino } from 'pino'
import { loadConfig, type LoadConfigOptions } from './config/load-config.js'
import { createGateway, type Gateway, type GatewayDeps } from './gateway.js'

export interface RunGatewayOptions extends LoadConfigOptions {
  deps?: GatewayDeps
}

export interface RunningGateway {
  gateway: Gateway
  url: string
  /** Removes the signal handlers and closes the gateway. */
  stop(): Promise<void>
}

/**
 * Loads the configuration, starts the gateway, and wires the signals: `SIGHUP` reloads the file
 * (a configuration that fails validation, or a reload that is refused, is logged and the old
 * one stays), `SIGTERM` and `SIGINT` drain and close.
 *
 * @example
 * const { url } = await runGateway({ file: 'gateway.yaml' })
 */
export async function runGateway(options: RunGatewayOptions): Promise<RunningGateway> {
  const { deps = {}, ...loading } = options
  const config = loadConfig(loading)
  const logger = deps.logger ?? pino({ level: config.log.level })
  const gateway = createGateway(config, { ...deps, logger })
  const url = await gateway.listen()
  const reload = () => {
    logger.info('SIGHUP: reloading the configuration')
    Promise.resolve()
      .then(() => gateway.reload(loadConfig(loading)))
      .catch((err: unknown) => {
        logger.error({ err }, 'the configuration was not reloaded; the previous one stays in force')
      })
  }
  const stop = () => {
    process.off('SIGHUP', reload)
    process.off('SIGTERM', terminate)
    process.off('SIGINT', terminate)
    return gateway.close()
  }
  const terminate = (signal: NodeJS.Signals) => {
    logger.info(`${signal}: draining`)
    stop().catch((err: unknown) => {
      logger.error({ err }, 'closing the gateway')
    })
  }
  process.on('SIGHUP', reload)
  process.on('SIGTERM', terminate)
  process.on('SIGINT', terminate)
  return { gateway, url, stop }
}
