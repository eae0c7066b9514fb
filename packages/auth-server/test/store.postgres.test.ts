import { Kysely, Migrator, NO_MIGRATIONS, PostgresDialect } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrateToLatest, migrations } from '../src/store/migrations.js'
import { openPostgresStore, openStore } from '../src/store/open-store.js'
import { createTestDatabase } from './helpers/postgres.js'
import type { TestDatabase } from './helpers/postgres.js'
import type { Store } from '../src/store/store.js'
import { storeConformance } from './store-conformance.js'
import { storeGrantsConformance } from './store-conformance-grants.js'

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await database.drop()
})

async function query<Row extends pg.QueryResultRow>(url: string, text: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<Row>(text)).rows
  } finally {
    await client.end()
  }
}

const openPostgres = (): Promise<Store> => openStore({ databaseUrl: database.url, dataDir: '/nonexistent' })
const resetPostgres = async (): Promise<void> => {
  await query(database.url, 'DROP SCHEMA public CASCADE; CREATE SCHEMA public')
}
storeConformance('postgres', openPostgres, resetPostgres)
storeGrantsConformance('postgres', openPostgres, resetPostgres)

describe('postgres store migrations', () => {
  it('lets several instances start at once, applies each migration once, and migrates down', async () => {
    const fresh = await createTestDatabase()
    try {
      const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore(fresh.url)))
      await Promise.all(stores.map((store) => store.close()))
      const applied = await query<{ name: string }>(fresh.url, 'SELECT name FROM kysely_migration ORDER BY name')
      expect(applied).toStrictEqual([
        { name: '0001_initial' },
        { name: '0002_ca_store' },
        { name: '0003_tls_client_auth' },
        { name: '0004_reference_tokens' },
        { name: '0005_users' },
        { name: '0006_end_user_grants' },
        { name: '0007_user_admin' },
      ])

      const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: fresh.url }) }) })
      const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations('postgres')) } })
      expect((await migrator.migrateTo(NO_MIGRATIONS)).error).toBeUndefined()
      const tables = "SELECT 1 FROM pg_tables WHERE tablename IN ('clients', 'ca_certificates')"
      expect(await query(fresh.url, tables)).toHaveLength(0)
      await migrateToLatest(db, 'postgres')
      await db.destroy()
    } finally {
      await fresh.drop()
    }
  })
})
