import { Command } from 'commander'
import { runGateway } from '@meshguard/gateway'
import { action } from '../runtime.js'

/** `meshguard gateway --config FILE`: serves until SIGTERM or SIGINT (draining), reloads on SIGHUP. */
export function gatewayCommand(): Command {
  return new Command('gateway')
    .description('run the edge gateway: routing, token checks, phantom tokens, rate limits')
    .requiredOption('--config <file>', 'gateway configuration, YAML or JSON (see docs/configuration.md)')
    .action(
      action(async (options: { config: string }) => {
        const { url } = await runGateway({ file: options.config })
        console.log(`gateway listening on ${url}; SIGHUP reloads ${options.config}`)
      }),
    )
}
