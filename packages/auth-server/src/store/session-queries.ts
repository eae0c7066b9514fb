import type { Kysely } from 'kysely'
import { conflictOr } from './conflict.js'
import type { Database } from './migrations.js'
import { fromConsentRow, fromInteractionRow, fromSessionRow, toConsentRow, toInteractionRow, toSessionRow } from './rows.js'
import type { ConsentRecord, InteractionRecord, SessionRecord } from './store.js'

// The browser side of an authorization, for `KyselyStore`: interactions, sessions, consents.
// Each function is the `Store` method of the same name; see its documentation there.

export async function createInteraction(db: Kysely<Database>, interaction: InteractionRecord): Promise<void> {
  try {
    await db.insertInto('interactions').values(toInteractionRow(interaction)).execute()
  } catch (error) {
    throw conflictOr(error, `an interaction with hash "${interaction.idHash}" already exists`)
  }
}

export async function getInteraction(db: Kysely<Database>, idHash: string, now: number): Promise<InteractionRecord | undefined> {
  const row = await db
    .selectFrom('interactions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return row && fromInteractionRow(row)
}

export async function setInteractionUser(db: Kysely<Database>, idHash: string, userId: string, authTime: number): Promise<boolean> {
  const result = await db
    .updateTable('interactions')
    .set({ user_id: userId, auth_time: authTime })
    .where('id_hash', '=', idHash)
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

export async function deleteInteraction(db: Kysely<Database>, idHash: string): Promise<boolean> {
  const result = await db.deleteFrom('interactions').where('id_hash', '=', idHash).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export async function createSession(db: Kysely<Database>, session: SessionRecord): Promise<void> {
  try {
    await db.insertInto('sessions').values(toSessionRow(session)).execute()
  } catch (error) {
    throw conflictOr(error, `a session with hash "${session.idHash}" already exists`)
  }
}

export async function getSession(db: Kysely<Database>, idHash: string, now: number): Promise<SessionRecord | undefined> {
  const row = await db
    .selectFrom('sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return row && fromSessionRow(row)
}

export async function deleteSession(db: Kysely<Database>, idHash: string): Promise<boolean> {
  const result = await db.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export async function getConsent(db: Kysely<Database>, userId: string, clientId: string): Promise<ConsentRecord | undefined> {
  const row = await db
    .selectFrom('consents')
    .selectAll()
    .where('user_id', '=', userId)
    .where('client_id', '=', clientId)
    .executeTakeFirst()
  return row && fromConsentRow(row)
}

export async function saveConsent(db: Kysely<Database>, consent: ConsentRecord): Promise<void> {
  const row = toConsentRow(consent)
  await db
    .insertInto('consents')
    .values(row)
    .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet({ scopes: row.scopes, updated_at: row.updated_at }))
    .execute()
}

/** Deletes interactions and sessions from their expiry on, when `get…` stops returning them. */
export async function purgeExpiredSessions(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('interactions').where('expires_at', '<=', now).execute()
  await db.deleteFrom('sessions').where('expires_at', '<=', now).execute()
}
