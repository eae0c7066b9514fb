import type { Kysely } from 'kysely'
import { conflictOr } from './conflict.js'
import type { Database, StoreKind } from './migrations.js'
import {
  fromAuthorizationCodeRow,
  fromGrantRow,
  fromRefreshTokenRow,
  fromRevocationRow,
  toAuthorizationCodeRow,
  toGrantRow,
  toRefreshTokenRow,
} from './rows.js'
import type {
  AuthorizationCodeRecord,
  GrantAccessToken,
  GrantRecord,
  RefreshRotation,
  RefreshTokenRecord,
  RevocationRecord,
} from './store.js'
import { writeTransaction } from './write-transaction.js'

// Grants and what they yield, for `KyselyStore`. Each function is the `Store` method of the
// same name; see its documentation there.
//
// Everything that issues under a grant or revokes it first locks the grant's row, so the two
// never interleave: a revocation either sees an issued token's jti or the issuer sees the
// revoked grant. On SQLite `writeTransaction` holds the database's write lock instead.

export async function createGrantWithCode(db: Kysely<Database>, grant: GrantRecord, code: AuthorizationCodeRecord): Promise<void> {
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('grants').values(toGrantRow(grant)).execute()
      await trx.insertInto('authorization_codes').values(toAuthorizationCodeRow(code)).execute()
    })
  } catch (error) {
    throw conflictOr(error, `grant "${grant.id}" or a code with hash "${code.codeHash}" already exists`)
  }
}

export async function getGrant(db: Kysely<Database>, id: string): Promise<GrantRecord | undefined> {
  const row = await db.selectFrom('grants').selectAll().where('id', '=', id).executeTakeFirst()
  return row && fromGrantRow(row)
}

/** Oldest first. */
export async function listSessionGrants(db: Kysely<Database>, sessionIdHash: string): Promise<string[]> {
  const rows = await db
    .selectFrom('grants')
    .select('id')
    .where('session_id_hash', '=', sessionIdHash)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  return rows.map((row) => row.id)
}

/** The conditional `UPDATE` is the lock: it holds the grant's row as `SELECT … FOR UPDATE` would. */
export function revokeGrant(db: Kysely<Database>, kind: StoreKind, grantId: string, now: number): Promise<RevocationRecord[]> {
  return writeTransaction(db, kind, async (trx) => {
    const grants = await trx
      .updateTable('grants')
      .set({ revoked_at: now })
      .where('id', '=', grantId)
      .where('revoked_at', 'is', null)
      .returning(['id', 'client_id'])
      .execute()
    return revokeAccessTokens(trx, grants, now)
  })
}

/** Stores a revocation for each unexpired access token of grants just marked revoked; returns those newly stored. */
async function revokeAccessTokens(trx: Kysely<Database>, grants: ReadonlyArray<{ id: string; client_id: string }>, now: number): Promise<RevocationRecord[]> {
  if (grants.length === 0) return []
  const clientOf = new Map(grants.map((grant) => [grant.id, grant.client_id]))
  const tokens = await trx
    .selectFrom('grant_access_tokens')
    .select(['grant_id', 'jti', 'expires_at'])
    .where('grant_id', 'in', [...clientOf.keys()])
    .where('expires_at', '>', now)
    .orderBy('jti')
    .execute()
  if (tokens.length === 0) return []
  const revoked = await trx
    .insertInto('revocations')
    .values(tokens.map((token) => ({ jti: token.jti, client_id: clientOf.get(token.grant_id)!, expires_at: Number(token.expires_at), revoked_at: now })))
    .onConflict((oc) => oc.column('jti').doNothing())
    .returningAll()
    .execute()
  return revoked.map(fromRevocationRow).sort((a, b) => (a.jti < b.jti ? -1 : 1))
}

export async function getAuthorizationCode(db: Kysely<Database>, codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
  const row = await db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst()
  return row && fromAuthorizationCodeRow(row)
}

/**
 * One conditional `UPDATE`: SQLite runs it under its write lock, and PostgreSQL re-checks
 * `consumed_at is null` on the row a concurrent redemption committed.
 */
export async function consumeAuthorizationCode(db: Kysely<Database>, codeHash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('authorization_codes')
    .set({ consumed_at: now })
    .where('code_hash', '=', codeHash)
    .where('consumed_at', 'is', null)
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

export async function recordGrantTokens(
  db: Kysely<Database>,
  kind: StoreKind,
  grantId: string,
  now: number,
  accessToken: GrantAccessToken,
  refreshToken: RefreshTokenRecord | undefined,
): Promise<boolean> {
  try {
    return await writeTransaction(db, kind, async (trx) => {
      if (!(await lockLiveGrant(trx, kind, grantId, now))) return false
      await trx
        .insertInto('grant_access_tokens')
        .values({ grant_id: grantId, jti: accessToken.jti, expires_at: accessToken.expiresAt })
        .execute()
      if (refreshToken !== undefined) await trx.insertInto('refresh_tokens').values(toRefreshTokenRow(refreshToken)).execute()
      return true
    })
  } catch (error) {
    throw conflictOr(error, `access token "${accessToken.jti}" or refresh token hash "${refreshToken?.tokenHash ?? ''}" already recorded`)
  }
}

export async function getRefreshToken(db: Kysely<Database>, tokenHash: string): Promise<RefreshTokenRecord | undefined> {
  const row = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
  return row && fromRefreshTokenRow(row)
}

/** An unknown token (purged with its grant) counts as an unknown grant: `grant_revoked`. */
export async function rotateRefreshToken(
  db: Kysely<Database>,
  kind: StoreKind,
  tokenHash: string,
  now: number,
  successor: RefreshTokenRecord,
  accessToken: GrantAccessToken,
): Promise<RefreshRotation> {
  try {
    return await writeTransaction(db, kind, async (trx): Promise<RefreshRotation> => {
      const token = await trx.selectFrom('refresh_tokens').select('grant_id').where('token_hash', '=', tokenHash).executeTakeFirst()
      if (token === undefined || !(await lockLiveGrant(trx, kind, token.grant_id, now))) return 'grant_revoked'
      const rotated = await trx
        .updateTable('refresh_tokens')
        .set({ rotated_at: now })
        .where('token_hash', '=', tokenHash)
        .where('rotated_at', 'is', null)
        .executeTakeFirst()
      if (rotated.numUpdatedRows === 0n) return 'reused'
      await trx.insertInto('refresh_tokens').values(toRefreshTokenRow(successor)).execute()
      await trx
        .insertInto('grant_access_tokens')
        .values({ grant_id: token.grant_id, jti: accessToken.jti, expires_at: accessToken.expiresAt })
        .execute()
      return 'rotated'
    })
  } catch (error) {
    throw conflictOr(error, `refresh token hash "${successor.tokenHash}" or access token "${accessToken.jti}" already recorded`)
  }
}

/** Deletes the user, their sessions and consents, and revokes their grants, all or nothing. */
export function deleteUser(db: Kysely<Database>, kind: StoreKind, username: string, now: number): Promise<boolean> {
  return writeTransaction(db, kind, async (trx) => {
    const user = await trx.deleteFrom('users').where('username', '=', username).returning('id').executeTakeFirst()
    if (user === undefined) return false
    await trx.deleteFrom('sessions').where('user_id', '=', user.id).execute()
    await trx.deleteFrom('consents').where('user_id', '=', user.id).execute()
    const grants = await trx
      .updateTable('grants')
      .set({ revoked_at: now })
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .returning(['id', 'client_id'])
      .execute()
    // Every instance learns these on its next re-read of the store and announces them.
    await revokeAccessTokens(trx, grants, now)
    return true
  })
}

/**
 * Deletes access-token records from their expiry on, and grants from theirs; a grant's code
 * and refresh tokens, used or not, go with it (`on delete cascade`).
 */
export async function purgeExpiredGrants(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('grant_access_tokens').where('expires_at', '<=', now).execute()
  await db.deleteFrom('grants').where('expires_at', '<=', now).execute()
}

/** Locks the grant's row on PostgreSQL (on SQLite the transaction holds the write lock) and tells whether it is live at `now`. */
async function lockLiveGrant(trx: Kysely<Database>, kind: StoreKind, grantId: string, now: number): Promise<boolean> {
  const grant = await trx
    .selectFrom('grants')
    .select(['revoked_at', 'expires_at'])
    .where('id', '=', grantId)
    .$if(kind === 'postgres', (qb) => qb.forUpdate())
    .executeTakeFirst()
  return grant !== undefined && grant.revoked_at === null && Number(grant.expires_at) > now
}
