import type BetterSqlite3 from 'better-sqlite3'
import type { SqliteDatabase } from 'kysely'

const DEFAULT_CAPACITY = 512

/**
 * better-sqlite3 with its prepared statements kept: Kysely's SQLite driver prepares every query
 * anew, which costs more than running it for the small statements the token endpoint makes.
 * Statements are found by their SQL text, and the least recently used one is dropped past
 * `capacity` (lists of varying length make distinct texts). better-sqlite3 is synchronous, so a
 * statement is never in use by two queries at once.
 */
export function withStatementCache(sqlite: BetterSqlite3.Database, capacity = DEFAULT_CAPACITY): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>()
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = statements.get(sql)
      if (statement === undefined) {
        statement = sqlite.prepare(sql)
        if (statements.size >= capacity) statements.delete(statements.keys().next().value!)
      } else {
        statements.delete(sql)
      }
      statements.set(sql, statement)
      return statement
    },
  }
}
