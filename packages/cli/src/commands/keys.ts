import { Command } from 'commander'
import { KeyManager, resolveKeyEncryptionKey, systemClock } from '@meshguard/auth-server'
import { action, withStore, type StateOptions } from '../runtime.js'
import { stateOptions } from './state-options.js'

export function keysCommand(): Command {
  const keys = new Command('keys').description('signing keys: list and rotate')

  stateOptions(keys.command('list').description('list signing keys and their state'))
    .option('--json', 'print JSON')
    .action(
      action(async (options: StateOptions & { json?: boolean }) => {
        const records = await withStore(options, (store) => store.listSigningKeys())
        const rows = records.map((key) => ({
          kid: key.kid,
          alg: key.alg,
          state: key.state,
          created: iso(key.createdAt),
          activated: iso(key.activatedAt),
          unpublished_at: iso(key.expiresAt),
        }))
        if (options.json) {
          console.log(JSON.stringify(rows))
          return
        }
        if (rows.length === 0) {
          console.log('no keys yet: they are created when the server first starts')
          return
        }
        for (const row of rows) {
          const when = row.state === 'retired' ? `leaves the JWKS ${row.unpublished_at}` : row.state === 'active' ? `signing since ${row.activated}` : `published since ${row.created}`
          console.log(`${row.kid}  ${row.alg.padEnd(5)}  ${row.state.padEnd(7)}  ${when}`)
        }
      }),
    )

  stateOptions(keys.command('rotate').description('retire the active key in favour of the published next key'))
    .option('--now', 'emergency: drop the active key at once; every token it signed stops verifying')
    .action(
      action(async (options: StateOptions & { now?: boolean }) => {
        await withStore(options, async (store, config) => {
          const kek = resolveKeyEncryptionKey(config)
          const manager = new KeyManager({ store, kek: kek.key, signing: config.signing, tokens: config.tokens, clock: systemClock })
          const before = (await store.listSigningKeys()).find((key) => key.state === 'active')
          const changed = await manager.rotate(options.now ? 'emergency' : 'manual')
          const after = (await store.listSigningKeys()).find((key) => key.state === 'active')
          if (!changed || after?.kid === before?.kid) {
            throw new Error(
              `the next key has not been published for ${config.signing.publishAheadSec} seconds yet, so verifiers may not hold it; try later or use --now`,
            )
          }
          console.log(options.now ? `dropped ${before?.kid ?? '(none)'}; ${after?.kid ?? ''} signs now` : `retired ${before?.kid ?? '(none)'}; ${after?.kid ?? ''} signs now`)
          console.log('running servers pick this up within their key reload interval')
        })
      }),
    )
  return keys
}

function iso(seconds: number | null): string {
  return seconds === null ? '-' : new Date(seconds * 1000).toISOString()
}
