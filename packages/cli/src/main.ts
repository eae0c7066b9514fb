import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { authServerCommand } from './commands/auth-server.js'
import { caCommand } from './commands/ca.js'
import { certCommand } from './commands/cert.js'
import { gatewayCommand } from './commands/gateway.js'
import { clientCommand } from './commands/client.js'
import { jwtCommand } from './commands/jwt.js'
import { keysCommand } from './commands/keys.js'
import { resourceCommand } from './commands/resource.js'
import { tokenCommand } from './commands/token.js'
import { upCommand } from './commands/up.js'
import { demoCommand } from './commands/demo.js'
import { userCommand } from './commands/user.js'

const program = new Command('meshguard')
  .description('Meshguard: authenticate, authorise and trace every call between your services')
  .version((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version)
  .showHelpAfterError()

for (const command of [upCommand(), authServerCommand(), resourceCommand(), clientCommand(), userCommand(), keysCommand(), tokenCommand(), jwtCommand(), caCommand(), certCommand(), gatewayCommand(), demoCommand()]) {
  program.addCommand(command)
}

await program.parseAsync()
