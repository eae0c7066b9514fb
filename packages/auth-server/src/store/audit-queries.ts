import { sql, type Kysely } from 'kysely'
import type { Database, StoreKind } from './migrations.js'
import { fromAuditRow } from './rows.js'
import type { AuditEvent, AuditFilter } from './store.js'

// The audit trail's search, for `KyselyStore`; see `Store.queryAudit`.

export async function queryAudit(db: Kysely<Database>, kind: StoreKind, filter: AuditFilter, limit: number): Promise<AuditEvent[]> {
  let query = db.selectFrom('audit_events').selectAll()
  if (filter.type !== undefined) query = query.where('type', '=', filter.type)
  if (filter.decision !== undefined) query = query.where('decision', '=', filter.decision)
  if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId)
  if (filter.since !== undefined) query = query.where('ts', '>=', filter.since)
  if (filter.until !== undefined) query = query.where('ts', '<=', filter.until)
  if (filter.service !== undefined) {
    // `json`, not `jsonb`: PostgreSQL's jsonb refuses a \u0000 anywhere in the document.
    const service = kind === 'postgres' ? sql<string>`(details::json ->> 'service')` : sql<string>`json_extract(details, '$.service')`
    query = query.where(service, '=', filter.service)
  }
  if (filter.reason !== undefined) {
    const pattern = `%${filter.reason.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    query = query.where(sql<boolean>`lower(reason) like ${pattern} escape '\\'`)
  }
  const rows = await query.orderBy('ts', 'desc').orderBy('id', 'desc').limit(limit).execute()
  return rows.map(fromAuditRow)
}
