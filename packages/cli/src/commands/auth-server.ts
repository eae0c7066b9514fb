import { Command } from 'commander'
import { createAuthServer, type AuthServer } from '@meshguard/auth-server'
import { action, configFrom, type StateOptions } from '../runtime.js'
import { stateOptions } from './state-options.js'

export interface ServeOptions extends StateOptions {
  port?: string
  host?: string
  issuer?: string
}

/** `meshguard auth-server`: serves until SIGINT or SIGTERM, then drains and exits. */
export function authServerCommand(): Command {
  return stateOptions(new Command('auth-server').description('run the authorization server'))
    .option('--port <port>', 'port to listen on (default 4000, or $MESHGUARD_PORT)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--issuer <url>', 'exact issuer identifier (default http://<host>:<port>, loopback only)')
    .action(
      action(async (options: ServeOptions) => {
        const server = await startServer(options)
        stopOnSignal(server)
      }),
    )
}

export async function startServer(options: ServeOptions): Promise<AuthServer> {
  const config = configFrom(options, { port: options.port, host: options.host, issuer: options.issuer })
  const server = await createAuthServer(config)
  await server.listen()
  return server
}

export function stopOnSignal(server: AuthServer): void {
  const stop = (signal: string) => {
    server.context.logger.info({ signal }, 'shutting down')
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.context.logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
