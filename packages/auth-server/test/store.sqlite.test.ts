import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, Migrator, NO_MIGRATIONS, SqliteDialect } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { KyselyStore, type Database } from '../src/store/kysely-store.js'
import { migrateToLatest, migrations } from '../src/store/migrations.js'
import { openSqliteStore, openStore, SQLITE_FILE_NAME } from '../src/store/open-store.js'
import { storeConformance } from './store-conformance.js'
import { storeGrantsConformance } from './store-conformance-grants.js'

const root = mkdtempSync(join(tmpdir(), 'meshguard-store-'))
afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

function freshDataDir(): string {
  return join(mkdtempSync(join(root, 'case-')), 'data')
}

let dataDir = freshDataDir()
const resetSqlite = (): Promise<void> => {
  dataDir = freshDataDir()
  return Promise.resolve()
}
storeConformance('sqlite', () => openStore({ dataDir }), resetSqlite)
storeGrantsConformance('sqlite', () => openStore({ dataDir }), resetSqlite)

describe('sqlite store file', () => {
  it('creates a private data directory and a WAL database', async () => {
    const dir = freshDataDir()
    const store = await openStore({ dataDir: dir })
    await store.close()
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    const raw = new BetterSqlite3(join(dir, SQLITE_FILE_NAME))
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
    raw.close()
  })

  it('waits for another process holding the write lock', async () => {
    const file = join(mkdtempSync(join(root, 'case-')), SQLITE_FILE_NAME)
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(${JSON.stringify(file)})
         db.pragma('journal_mode = WAL')
         db.exec('BEGIN IMMEDIATE; CREATE TABLE held (x)')
         process.stdout.write('locked\\n')
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 800)
         db.exec('COMMIT')
         db.close()`,
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const exited = once(holder, 'exit')
    await once(holder.stdout, 'data')
    const started = Date.now()
    const store = await openSqliteStore(file)
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    await store.createClient({
      id: 'cli',
      type: 'service',
      redirectUris: [],
      postLogoutRedirectUris: [],
      secretHash: null,
      jwks: null,
      tlsClientAuthSanUri: null,
      grantTypes: [],
      scopes: [],
      mayAct: null,
      tokenFormat: 'jwt',
      phantomTokens: false,
      createdAt: 0,
    })
    await store.close()
    expect(await exited).toStrictEqual([0, null])
  })

  it('fails clearly on a migration error and leaves the schema untouched', async () => {
    const file = join(mkdtempSync(join(root, 'case-')), SQLITE_FILE_NAME)
    const raw = new BetterSqlite3(file)
    raw.exec('CREATE TABLE clients (id text)')
    await expect(openSqliteStore(file)).rejects.toThrow(/sqlite store at migration "0001_initial": .*clients/)
    const tables = raw.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all()
    expect(tables.map((t) => t.name)).toStrictEqual(['clients'])
    raw.close()
  })

  it('migrates down to nothing and back up', async () => {
    const raw = new BetterSqlite3(join(mkdtempSync(join(root, 'case-')), SQLITE_FILE_NAME))
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) })
    const tables = () => raw.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all()
    await migrateToLatest(db, 'sqlite')
    const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations('sqlite')) } })
    expect((await migrator.migrateTo(NO_MIGRATIONS)).error).toBeUndefined()
    expect(tables().map((t) => t.name)).not.toContain('clients')
    expect(tables().map((t) => t.name)).not.toContain('ca_certificates')
    await migrateToLatest(db, 'sqlite')
    expect(tables().map((t) => t.name)).toEqual(
      expect.arrayContaining(['audit_events', 'ca_join_tokens', 'ca_certificates']),
    )
    const columns = () => raw.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('clients')").all().map((c) => c.name)
    expect(columns()).toContain('tls_client_auth_san_uri')
    expect((await migrator.migrateTo('0002_ca_store')).error).toBeUndefined()
    expect(columns()).not.toContain('tls_client_auth_san_uri')
    raw.exec(`INSERT INTO clients (id, secret_hash, grant_types, scopes, created_at) VALUES ('older', 'sha256$a$b', '[]', '[]', 1)`)
    await migrateToLatest(db, 'sqlite')
    expect(columns()).toContain('tls_client_auth_san_uri')
    expect(await new KyselyStore(db, 'sqlite').getClient('older')).toMatchObject({ secretHash: 'sha256$a$b', tlsClientAuthSanUri: null, tokenFormat: 'jwt', phantomTokens: false, type: 'service', redirectUris: [], postLogoutRedirectUris: [] })
    expect(tables().map((t) => t.name)).toContain('reference_tokens')
    expect((await migrator.migrateTo('0003_tls_client_auth')).error).toBeUndefined()
    expect(columns()).not.toContain('token_format')
    expect(tables().map((t) => t.name)).not.toContain('reference_tokens')
    await migrateToLatest(db, 'sqlite')
    expect(() => raw.exec(`UPDATE clients SET token_format = 'paseto' WHERE id = 'older'`)).toThrow(/CHECK constraint failed/)
    expect(tables().map((t) => t.name)).toEqual(expect.arrayContaining(['users', 'login_failures']))
    expect((await migrator.migrateTo('0004_reference_tokens')).error).toBeUndefined()
    expect(tables().map((t) => t.name)).not.toContain('users')
    expect(tables().map((t) => t.name)).not.toContain('login_failures')
    await migrateToLatest(db, 'sqlite')
    expect(tables().map((t) => t.name)).toEqual(expect.arrayContaining(['users', 'login_failures']))
    expect(() => raw.exec(`UPDATE clients SET client_type = 'daemon' WHERE id = 'older'`)).toThrow(/CHECK constraint failed/)
    const grantTables = ['interactions', 'sessions', 'consents', 'grants', 'grant_access_tokens', 'authorization_codes', 'refresh_tokens']
    expect(tables().map((t) => t.name)).toEqual(expect.arrayContaining(grantTables))
    expect((await migrator.migrateTo('0005_users')).error).toBeUndefined()
    expect(tables().map((t) => t.name).filter((t) => grantTables.includes(t))).toStrictEqual([])
    expect(columns()).not.toContain('client_type')
    expect(columns()).not.toContain('redirect_uris')
    await migrateToLatest(db, 'sqlite')
    expect(tables().map((t) => t.name)).toEqual(expect.arrayContaining(grantTables))
    const userColumns = () => raw.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('users')").all().map((c) => c.name)
    raw.exec(`INSERT INTO users (id, username, password_hash, created_at, updated_at) VALUES ('u1', 'alice', 'scrypt$x', 1, 1)`)
    expect(await new KyselyStore(db, 'sqlite').getUser('u1')).toMatchObject({ admin: false })
    expect(() => raw.exec(`UPDATE users SET admin = 2 WHERE id = 'u1'`)).toThrow(/CHECK constraint failed/)
    expect((await migrator.migrateTo('0006_end_user_grants')).error).toBeUndefined()
    expect(userColumns()).not.toContain('admin')
    await migrateToLatest(db, 'sqlite')
    expect(userColumns()).toContain('admin')
    await db.destroy()
  })
})
