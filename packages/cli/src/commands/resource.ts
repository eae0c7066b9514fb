import { Command } from 'commander'
import { registerResourceServer } from '@meshguard/auth-server'
import { action, nowSeconds, withStore, words, type StateOptions } from '../runtime.js'
import { stateOptions } from './state-options.js'

export function resourceCommand(): Command {
  const resource = new Command('resource').description('register the APIs (resource servers) tokens are issued for')

  stateOptions(resource.command('create').description('register a resource server and the scopes it defines'))
    .requiredOption('--id <audience>', 'the audience identifier tokens will carry in aud')
    .requiredOption('--scope <scopes...>', 'scopes it defines, space-separated or repeated')
    .option('--json', 'print the record as JSON')
    .action(
      action(async (options: StateOptions & { id: string; scope: string[]; json?: boolean }) => {
        const record = await withStore(options, (store) => registerResourceServer(store, { id: options.id, scopes: words(options.scope) }, nowSeconds()))
        console.log(options.json ? JSON.stringify(record) : `resource server ${record.id} defines: ${record.scopes.join(' ')}`)
      }),
    )

  stateOptions(resource.command('list').description('list resource servers'))
    .option('--json', 'print JSON')
    .action(
      action(async (options: StateOptions & { json?: boolean }) => {
        const list = await withStore(options, (store) => store.listResourceServers())
        if (options.json) console.log(JSON.stringify(list))
        else if (list.length === 0) console.log('no resource servers')
        else for (const r of list) console.log(`${r.id}\t${r.scopes.join(' ')}`)
      }),
    )

  stateOptions(resource.command('delete').description('delete a resource server and its scopes'))
    .requiredOption('--id <audience>', 'the resource server')
    .action(
      action(async (options: StateOptions & { id: string }) => {
        const deleted = await withStore(options, (store) => store.deleteResourceServer(options.id))
        if (!deleted) throw new Error(`no resource server "${options.id}"`)
        console.log(`deleted resource server ${options.id}`)
      }),
    )
  return resource
}
