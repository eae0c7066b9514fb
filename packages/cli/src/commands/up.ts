import { Command, Option } from 'commander'
import { action } from '../runtime.js'
import { startMesh, summary } from '../up/start-mesh.js'
import type { Tier } from '../up/mesh-layout.js'

interface UpOptions {
  dataDir: string
  portBase: string
  tier: Tier
  verbose?: boolean
}

/**
 * `meshguard up`: the whole secured demo mesh on this machine with embedded defaults (SQLite, a
 * local CA in the data directory). A second start reuses the data directory. Ctrl-C or SIGTERM
 * stops everything; a child that crashes is reported and restarted.
 */
export function upCommand(): Command {
  return new Command('up')
    .description('run the secured demo mesh on this machine: authorization server, CA, gateway, HTTP and gRPC services')
    .option('--data-dir <dir>', 'data directory, reused on the next start', '.meshguard')
    .option('--port-base <n>', 'every listener at this port plus its offset (see docs/demo.md)', '4000')
    .addOption(new Option('--tier <tier>', 'security tier').choices(['low', 'medium', 'high']).default('high'))
    .option('--verbose', "print the children's log lines")
    .action(
      action(async (options: UpOptions) => {
        const portBase = Number(options.portBase)
        if (!Number.isInteger(portBase) || portBase < 1024 || portBase > 65_000) throw new Error('--port-base must be an integer from 1024 to 65000')
        const log = (line: string) => {
          if (options.verbose || line.startsWith('meshguard')) process.stderr.write(`${line}\n`)
        }
        const mesh = await startMesh({ dataDir: options.dataDir, portBase, tier: options.tier, log })
        process.stdout.write(summary(mesh.demo, mesh.layout.files.demo))
        const stop = (signal: NodeJS.Signals) => {
          process.stderr.write(`meshguard up: ${signal}, stopping the mesh\n`)
          mesh.stop().then(
            () => process.exit(0),
            () => process.exit(1),
          )
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      }),
    )
}
