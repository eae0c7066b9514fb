import { chmodSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { KyselyStore } from './kysely-store.js'
import { migrateToLatest } from './migrations.js'
import { withStatementCache } from './sqlite-statements.js'
import type { Database } from './migrations.js'
import type { Store } from './store.js'

/** Where the store lives: PostgreSQL when `databaseUrl` is set, else SQLite under `dataDir`. */
export interface OpenStoreOptions {
  databaseUrl?: string | undefined
  dataDir: string
}

/** Name of the SQLite database file inside the data directory. */
export const SQLITE_FILE_NAME = 'meshguard.db'

/**
 * Opens the configured store and migrates its schema to the latest version.
 *
 * @example
 * ```ts
 * const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
 * ```
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl !== undefined) return openPostgresStore(options.databaseUrl)
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 })
  return openSqliteStore(join(options.dataDir, SQLITE_FILE_NAME))
}

/**
 * Opens (creating if needed) a SQLite store. Several processes may open the same file, as
 * the server and the `meshguard` CLI do: WAL lets readers run beside the one writer, and
 * a writer waits up to five seconds for the lock before failing with `SQLITE_BUSY`. That
 * wait blocks the event loop, so within one process share a single store per file.
 *
 * The migration runs inside `BEGIN IMMEDIATE`, so it is all or nothing and a second
 * process waits for the first to finish instead of applying it twice.
 *
 * @example
 * ```ts
 * const store = await openSqliteStore('.meshguard/meshguard.db')
 * ```
 */
export async function openSqliteStore(file: string): Promise<Store> {
  const sqlite = new BetterSqlite3(file, { timeout: 5000 })
  // Client secret hashes and sealed keys: readable by the owner only (WAL files inherit the mode).
  chmodSync(file, 0o600)
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
  try {
    sqlite.pragma('busy_timeout = 5000')
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.exec('BEGIN IMMEDIATE')
    try {
      await migrateToLatest(db, 'sqlite')
      sqlite.exec('COMMIT')
    } catch (error) {
      if (sqlite.inTransaction) sqlite.exec('ROLLBACK')
      throw error
    }
  } catch (error) {
    await db.destroy()
    throw error
  }
  return new KyselyStore(db, 'sqlite')
}

/**
 * Opens a PostgreSQL store over a connection pool. Instances that start together may all
 * call this: Kysely's `Migrator` serializes them with an advisory lock.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore('postgres://meshguard@db.internal/meshguard')
 * ```
 */
export async function openPostgresStore(url: string): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url })
  // An idle client whose connection drops leaves the pool; the next query reports the outage.
  pool.on('error', () => undefined)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  try {
    await migrateToLatest(db, 'postgres')
  } catch (error) {
    await db.destroy()
    throw error
  }
  return new KyselyStore(db, 'postgres')
}
