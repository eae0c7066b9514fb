import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command } from 'commander'
import { registerClient, registerResourceServer, TOKEN_EXCHANGE_GRANT, type Store } from '@meshguard/auth-server'
import { action, nowSeconds } from '../runtime.js'
import { startServer, stopOnSignal } from './auth-server.js'

const DEMO_FILE = 'demo-client.json'

interface UpOptions {
  dataDir: string
  portBase: string
}

interface DemoClient {
  client_id: string
  client_secret: string
}

/**
 * `meshguard up`: the demo on embedded defaults. For now the authorization server with a demo
 * API and a demo client; a second start reuses the data directory.
 */
export function upCommand(): Command {
  return new Command('up')
    .description('run a secured demo on this machine with embedded defaults (SQLite, generated keys)')
    .option('--data-dir <dir>', 'data directory, reused on the next start', '.meshguard')
    .option('--port-base <n>', 'the authorization server listens on this port', '4000')
    .action(
      action(async (options: UpOptions) => {
        const server = await startServer({ dataDir: options.dataDir, port: options.portBase })
        const demo = await seedDemo(server.context.store, options.dataDir)
        const issuer = server.context.issuer
        process.stdout.write(
          [
            '',
            `Meshguard authorization server: ${issuer}`,
            `  discovery: ${issuer}/.well-known/openid-configuration`,
            `  demo client: ${demo.client_id} (secret in ${join(options.dataDir, DEMO_FILE)})`,
            '',
            'Get a token:',
            `  MESHGUARD_CLIENT_SECRET=${demo.client_secret} npx meshguard token --client ${demo.client_id} --issuer ${issuer}`,
            '',
          ].join('\n'),
        )
        stopOnSignal(server)
      }),
    )
}

async function seedDemo(store: Store, dataDir: string): Promise<DemoClient> {
  const file = join(dataDir, DEMO_FILE)
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoClient
  const now = nowSeconds()
  if (!(await store.listResourceServers()).some((resource) => resource.id === 'demo-api')) {
    await registerResourceServer(store, { id: 'demo-api', scopes: ['demo.read', 'demo.write'] }, now)
  }
  if (await store.getClient('demo-client')) await store.deleteClient('demo-client')
  const { secret } = await registerClient(
    store,
    { id: 'demo-client', scopes: ['demo.read', 'demo.write'], grantTypes: ['client_credentials', TOKEN_EXCHANGE_GRANT] },
    now,
  )
  const demo = { client_id: 'demo-client', client_secret: secret! }
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 })
  return demo
}
