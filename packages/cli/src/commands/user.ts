import { text } from 'node:stream/consumers'
import { Command } from 'commander'
import { changeUserPassword, deleteUser, registerUser, type UserRecord } from '@meshguard/auth-server'
import { action, nowSeconds, withStore, type StateOptions } from '../runtime.js'
import { stateOptions } from './state-options.js'

/** Where a password is read from when `--password-stdin` is not given. */
export const USER_PASSWORD_VARIABLE = 'MESHGUARD_USER_PASSWORD'

interface PasswordOptions extends StateOptions {
  passwordStdin?: boolean
}

interface CreateOptions extends PasswordOptions {
  username: string
  name?: string
  email?: string
  admin?: boolean
  json?: boolean
}

export function userCommand(): Command {
  const user = new Command('user').description('manage the end users who sign in with a password')

  passwordOptions(stateOptions(user.command('create').description('create a user; the password comes from stdin or $' + USER_PASSWORD_VARIABLE)))
    .requiredOption('--username <username>', 'the sign-in name (stored in lower case, NFKC)')
    .option('--name <name>', 'full name (OpenID Connect claim "name")')
    .option('--email <email>', 'e-mail address (OpenID Connect claim "email")')
    .option('--admin', 'let the user sign in to the console and administer the server')
    .option('--json', 'print the user as JSON')
    .action(
      action(async (options: CreateOptions) => {
        const password = await readPassword(options)
        const record = await withStore(options, (store) =>
          registerUser(store, { username: options.username, password, name: options.name, email: options.email, admin: options.admin }, nowSeconds()),
        )
        if (options.json) console.log(JSON.stringify(describe(record)))
        else console.log(`created ${record.admin ? 'administrator' : 'user'} ${record.username} (subject ${record.id})`)
      }),
    )

  stateOptions(user.command('list').description('list users (never their password hashes)'))
    .option('--json', 'print JSON')
    .action(
      action(async (options: StateOptions & { json?: boolean }) => {
        const list = (await withStore(options, (store) => store.listUsers())).map(describe)
        if (options.json) console.log(JSON.stringify(list))
        else if (list.length === 0) console.log('no users')
        else for (const u of list) console.log([u.username, u.sub, u.name ?? '-', u.email ?? '-', ...(u.admin ? ['admin'] : [])].join('\t'))
      }),
    )

  stateOptions(user.command('delete').description('delete a user').argument('<username>'))
    .action(
      action(async (username: string, options: StateOptions) => {
        await withStore(options, (store) => deleteUser(store, username, nowSeconds()))
        console.log(`deleted user ${username}`)
      }),
    )

  passwordOptions(stateOptions(user.command('passwd').description('set a user\'s password; lifts a lock on the account').argument('<username>')))
    .action(
      action(async (username: string, options: PasswordOptions) => {
        const password = await readPassword(options)
        await withStore(options, (store) => changeUserPassword(store, username, password, nowSeconds()))
        console.log(`changed the password of ${username}`)
      }),
    )
  return user
}

function passwordOptions(command: Command): Command {
  return command.option('--password-stdin', `read the password from stdin (one line) instead of $${USER_PASSWORD_VARIABLE}`)
}

/** Never a command-line argument: it would show in `ps` and the shell history. */
async function readPassword(options: PasswordOptions): Promise<string> {
  if (options.passwordStdin) return (await text(process.stdin)).replace(/\r?\n$/, '')
  const fromEnvironment = process.env[USER_PASSWORD_VARIABLE]
  if (fromEnvironment !== undefined) return fromEnvironment
  throw new Error(`give the password on stdin with --password-stdin, or in $${USER_PASSWORD_VARIABLE}`)
}

function describe(user: UserRecord) {
  return {
    username: user.username,
    sub: user.id,
    name: user.name ?? undefined,
    email: user.email ?? undefined,
    admin: user.admin,
    created_at: new Date(user.createdAt * 1000).toISOString(),
    updated_at: new Date(user.updatedAt * 1000).toISOString(),
  }
}
