import { sql } from 'kysely'
import type { Kysely } from 'kysely'
import type { Database, StoreKind } from './migrations.js'

/**
 * Runs `work` in a transaction that may read and then write. On SQLite it starts with
 * `BEGIN IMMEDIATE`, taking the write lock first: another process (the CLI beside the server)
 * then waits for it instead of writing between its read and its write, which would fail it
 * with `SQLITE_BUSY_SNAPSHOT`. On PostgreSQL it is an ordinary transaction; `work` locks the
 * rows it reads before writing (`SELECT … FOR UPDATE`, or a conditional `UPDATE`).
 */
export async function writeTransaction<T>(
  db: Kysely<Database>,
  kind: StoreKind,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (kind === 'postgres') return db.transaction().execute(work)
  // The SQLite dialect has one connection: holding it keeps this process's other queries out.
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection)
    try {
      const result = await work(connection)
      await sql`commit`.execute(connection)
      return result
    } catch (error) {
      await sql`rollback`.execute(connection)
      throw error
    }
  })
}
