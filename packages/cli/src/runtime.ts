import {
  loadConfig,
  MeshguardError,
  openStore,
  type AuthServerConfig,
  type AuthServerConfigInput,
  type Store,
} from '@meshguard/auth-server'

/** Options every command that touches the state accepts. */
export interface StateOptions {
  dataDir?: string
  config?: string
  databaseUrl?: string
}

export interface Output {
  out(text: string): void
  err(text: string): void
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
}

export function configFrom(options: StateOptions, overrides: AuthServerConfigInput = {}): Readonly<AuthServerConfig> {
  return loadConfig({
    file: options.config,
    overrides: { dataDir: options.dataDir, databaseUrl: options.databaseUrl, ...overrides },
  })
}

/** Opens the store the server uses (the same SQLite file or PostgreSQL database), runs `fn`, closes it. */
export async function withStore<T>(options: StateOptions, fn: (store: Store, config: Readonly<AuthServerConfig>) => Promise<T>): Promise<T> {
  const config = configFrom(options)
  const store = await openStore(config)
  try {
    return await fn(store, config)
  } finally {
    await store.close()
  }
}

/** Runs a command action: errors are printed as a sentence and the exit code set to 1. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>, output: Output = processOutput): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args)
    } catch (err) {
      output.err(`meshguard: ${describeError(err)}`)
      process.exitCode = 1
    }
  }
}

export function describeError(err: unknown): string {
  if (err instanceof MeshguardError) return err.message
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ECONNREFUSED') return `cannot connect: ${err.message}`
    return err.message
  }
  return String(err)
}

/** Splits space-separated values and repeated flags into one list. */
export function words(values: string | readonly string[] | undefined): string[] {
  const list = typeof values === 'string' ? [values] : (values ?? [])
  return list.flatMap((value) => value.split(/\s+/)).filter((value) => value !== '')
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
