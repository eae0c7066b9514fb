import { Command } from 'commander'
import { runGateway } from '@meshguard/gateway'
import { WorkloadIdentity } from '@meshguard/service-kit/tls'
import { action } from '../runtime.js'

interface GatewayOptions {
  config: string
  identityCert?: string
  identityKey?: string
  identityBundle?: string
}

/** `meshguard gateway --config FILE`: serves until SIGTERM or SIGINT (draining), reloads on SIGHUP. */
export function gatewayCommand(): Command {
  return new Command('gateway')
    .description('run the edge gateway: routing, token checks, phantom tokens, rate limits')
    .requiredOption('--config <file>', 'gateway configuration, YAML or JSON (see docs/configuration.md)')
    .option('--identity-cert <file>', "the gateway's workload certificate chain (PEM), for upstreams reached over mutual TLS")
    .option('--identity-key <file>', 'its private key (PEM)')
    .option('--identity-bundle <file>', 'the trust bundle upstream certificates must chain to (PEM)')
    .action(
      action(async (options: GatewayOptions) => {
        const files = [options.identityCert, options.identityKey, options.identityBundle]
        if (files.some((file) => file !== undefined) && files.some((file) => file === undefined)) {
          throw new Error('give --identity-cert, --identity-key and --identity-bundle together')
        }
        const identity =
          options.identityCert === undefined
            ? undefined
            : await WorkloadIdentity.fromFiles({ certificateChain: options.identityCert, privateKey: options.identityKey!, trustBundle: options.identityBundle! })
        const { url } = await runGateway({ file: options.config, ...(identity && { deps: { identity } }) })
        console.log(`gateway listening on ${url}; SIGHUP reloads ${options.config}`)
      }),
    )
}
