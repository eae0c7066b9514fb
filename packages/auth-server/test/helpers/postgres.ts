import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The PostgreSQL server the tests run against; trust authentication is assumed. */
export const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** A throwaway database on the test server. */
export interface TestDatabase {
  /** Connection URL for the new database. */
  url: string
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>
}

/**
 * Creates a database with a random name, so test files can run in parallel against one server.
 *
 * @example
 * ```ts
 * let database: TestDatabase
 * beforeAll(async () => { database = await createTestDatabase() })
 * afterAll(() => database.drop())
 * ```
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `meshguard_test_${randomBytes(8).toString('hex')}`
  await onMaintenanceDatabase(`CREATE DATABASE "${name}"`)
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: () => onMaintenanceDatabase(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  }
}

async function onMaintenanceDatabase(statement: string): Promise<void> {
  const url = new URL(POSTGRES_URL)
  url.pathname = '/postgres'
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}
