import BetterSqlite3 from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { withStatementCache } from './sqlite-statements.js'

describe('withStatementCache', () => {
  it('prepares a statement once and reuses it, dropping the least recently used past capacity', () => {
    const sqlite = new BetterSqlite3(':memory:')
    const db = withStatementCache(sqlite, 2)
    const one = db.prepare('select 1 as n')
    expect(db.prepare('select 1 as n')).toBe(one)
    const two = db.prepare('select 2 as n')
    db.prepare('select 1 as n') // now the most recent
    db.prepare('select 3 as n') // evicts "select 2"
    expect(db.prepare('select 1 as n')).toBe(one)
    expect(db.prepare('select 2 as n')).not.toBe(two)
    expect((db.prepare('select 2 as n') as unknown as BetterSqlite3.Statement).get()).toEqual({ n: 2 })
    db.close()
    expect(sqlite.open).toBe(false)
  })
})
