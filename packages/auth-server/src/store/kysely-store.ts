import { sql } from 'kysely'
import type { Kysely } from 'kysely'
import type { CertificateRecord, JoinTokenRecord } from '@meshguard/pki'
import { MeshguardError } from '../errors.js'
import { conflictOr } from './conflict.js'
import * as auditQueries from './audit-queries.js'
import * as grantQueries from './grant-queries.js'
import type { Database, StoreKind } from './migrations.js'
import {
  fromAuditRow,
  fromCertificateRow,
  fromClientRow,
  fromJoinTokenRow,
  fromLoginFailureRow,
  fromReferenceTokenRow,
  fromRevocationRow,
  fromSigningKeyRow,
  fromUserRow,
  toAuditRow,
  toCertificateRow,
  toClientRow,
  toJoinTokenRow,
  toReferenceTokenRow,
  toSigningKeyRow,
  toUserRow,
} from './rows.js'
import * as sessionQueries from './session-queries.js'
import type {
  AuditEvent,
  AuditFilter,
  AuthorizationCodeRecord,
  ClientRecord,
  ConsentRecord,
  GrantAccessToken,
  GrantRecord,
  InteractionRecord,
  KeyChanges,
  LoginFailureRecord,
  LoginFailureRule,
  ReferenceTokenRecord,
  RefreshRotation,
  RefreshTokenRecord,
  ResourceServerRecord,
  RevocationRecord,
  SessionRecord,
  SigningKeyRecord,
  Store,
  UserRecord,
} from './store.js'

export type { Database } from './migrations.js'

const AUDIT_BATCH = 500

/**
 * The {@link Store} over a Kysely connection to SQLite or PostgreSQL, whose schema
 * `migrateToLatest` has brought up to date. `openStore` builds one from configuration.
 *
 * @example
 * ```ts
 * const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
 * await migrateToLatest(db, 'postgres')
 * const store = new KyselyStore(db, 'postgres')
 * ```
 */
export class KyselyStore implements Store {
  readonly #db: Kysely<Database>
  #closed: Promise<void> | undefined

  constructor(
    db: Kysely<Database>,
    readonly kind: StoreKind,
  ) {
    this.#db = db
  }

  async createClient(client: ClientRecord): Promise<void> {
    try {
      await this.#db.insertInto('clients').values(toClientRow(client)).execute()
    } catch (error) {
      throw conflictOr(error, `client "${client.id}" already exists`)
    }
  }

  async getClient(id: string): Promise<ClientRecord | undefined> {
    const row = await this.#db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst()
    return row && fromClientRow(row)
  }

  async listClients(): Promise<ClientRecord[]> {
    const rows = await this.#db.selectFrom('clients').selectAll().execute()
    return rows.map(fromClientRow).sort((a, b) => compare(a.id, b.id))
  }

  async deleteClient(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('clients').where('id', '=', id).executeTakeFirst()
    return result.numDeletedRows > 0n
  }

  async createResourceServer(resource: ResourceServerRecord): Promise<void> {
    const scopes = [...new Set(resource.scopes)]
    try {
      await this.#db.transaction().execute(async (trx) => {
        await trx.insertInto('resource_servers').values({ id: resource.id, created_at: resource.createdAt }).execute()
        if (scopes.length === 0) return
        const inserted = await trx
          .insertInto('scopes')
          .values(scopes.map((scope) => ({ scope, resource_server_id: resource.id })))
          .onConflict((oc) => oc.column('scope').doNothing())
          .returning('scope')
          .execute()
        if (inserted.length === scopes.length) return
        const added = new Set(inserted.map((row) => row.scope))
        const taken = scopes.filter((scope) => !added.has(scope))
        const owners = await trx.selectFrom('scopes').selectAll().where('scope', 'in', taken).execute()
        const described = owners.map((row) => `"${row.scope}" (resource server "${row.resource_server_id}")`)
        throw new MeshguardError(
          'ERR_STORE_CONFLICT',
          `scope already belongs to another resource server: ${described.join(', ') || taken.join(', ')}`,
        )
      })
    } catch (error) {
      throw conflictOr(error, `resource server "${resource.id}" already exists`)
    }
  }

  async listResourceServers(): Promise<ResourceServerRecord[]> {
    const servers = await this.#db.selectFrom('resource_servers').selectAll().execute()
    const scopes = await this.#db.selectFrom('scopes').selectAll().execute()
    const byServer = new Map(servers.map((row) => [row.id, [] as string[]]))
    for (const row of scopes) byServer.get(row.resource_server_id)?.push(row.scope)
    return servers
      .map((row) => ({
        id: row.id,
        scopes: (byServer.get(row.id) ?? []).sort(compare),
        createdAt: Number(row.created_at),
      }))
      .sort((a, b) => compare(a.id, b.id))
  }

  async deleteResourceServer(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('resource_servers').where('id', '=', id).executeTakeFirst()
    return result.numDeletedRows > 0n
  }

  async resolveScopes(scopes: readonly string[]): Promise<Map<string, string>> {
    if (scopes.length === 0) return new Map()
    const rows = await this.#db
      .selectFrom('scopes')
      .select(['scope', 'resource_server_id'])
      .where('scope', 'in', [...new Set(scopes)])
      .execute()
    return new Map(rows.map((row) => [row.scope, row.resource_server_id]))
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.#db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute()
    return rows.map(fromSigningKeyRow)
  }

  /**
   * Deletes, then updates that take a key out of `active`, then updates that make one
   * `active`, then inserts: a rotation never trips the single-active index midway.
   *
   * @throws MeshguardError `ERR_STORE_NOT_FOUND` when an update names an unknown `kid`.
   */
  async applyKeyChanges(changes: KeyChanges): Promise<void> {
    const { insert = [], update = [], delete: remove = [] } = changes
    const updates = [...update].sort((a, b) => Number(a.state === 'active') - Number(b.state === 'active'))
    if (insert.length + updates.length + remove.length === 0) return
    try {
      await this.#db.transaction().execute(async (trx) => {
        if (remove.length > 0) await trx.deleteFrom('signing_keys').where('kid', 'in', remove).execute()
        for (const { kid, state, activatedAt, retiredAt, expiresAt } of updates) {
          const result = await trx
            .updateTable('signing_keys')
            .set({ state, activated_at: activatedAt, retired_at: retiredAt, expires_at: expiresAt })
            .where('kid', '=', kid)
            .executeTakeFirst()
          if (result.numUpdatedRows === 0n) {
            throw new MeshguardError('ERR_STORE_NOT_FOUND', `signing key "${kid}" does not exist`)
          }
        }
        if (insert.length > 0) await trx.insertInto('signing_keys').values(insert.map(toSigningKeyRow)).execute()
      })
    } catch (error) {
      const message =
        error instanceof Error && /signing_keys_single_active|signing_keys\.state/.test(error.message)
          ? 'the key changes would leave two active signing keys'
          : `a signing key already exists among kids ${insert.map((key) => `"${key.kid}"`).join(', ')}`
      throw conflictOr(error, message)
    }
  }

  async revokeToken(revocation: RevocationRecord): Promise<boolean> {
    const row = await this.#db
      .insertInto('revocations')
      .values({
        jti: revocation.jti,
        client_id: revocation.clientId,
        expires_at: revocation.expiresAt,
        revoked_at: revocation.revokedAt,
      })
      .onConflict((oc) => oc.column('jti').doNothing())
      .returning('jti')
      .executeTakeFirst()
    return row !== undefined
  }

  async isRevoked(jti: string): Promise<boolean> {
    const row = await this.#db.selectFrom('revocations').select('jti').where('jti', '=', jti).executeTakeFirst()
    return row !== undefined
  }

  /** Revocations with `revokedAt >= sinceRevokedAt`, oldest first. */
  async listRevocations(sinceRevokedAt: number): Promise<RevocationRecord[]> {
    const rows = await this.#db
      .selectFrom('revocations')
      .selectAll()
      .where('revoked_at', '>=', sinceRevokedAt)
      .orderBy('revoked_at')
      .orderBy('jti')
      .execute()
    return rows.map(fromRevocationRow)
  }

  async saveReferenceToken(record: ReferenceTokenRecord): Promise<void> {
    try {
      await this.#db.insertInto('reference_tokens').values(toReferenceTokenRow(record)).execute()
    } catch (error) {
      throw conflictOr(error, `a reference token with hash "${record.tokenHash}" already exists`)
    }
  }

  async getReferenceToken(tokenHash: string): Promise<ReferenceTokenRecord | undefined> {
    const row = await this.#db.selectFrom('reference_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
    return row && fromReferenceTokenRow(row)
  }

  async consumeAssertionJti(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    const row = await this.#db
      .insertInto('assertion_jtis')
      .values({ client_id: clientId, jti, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
      .returning('jti')
      .executeTakeFirst()
    return row !== undefined
  }

  async createUser(user: UserRecord): Promise<void> {
    try {
      await this.#db.insertInto('users').values(toUserRow(user)).execute()
    } catch (error) {
      throw conflictOr(error, `user "${user.username}" already exists`)
    }
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
    return row && fromUserRow(row)
  }

  async getUserByUsername(username: string): Promise<UserRecord | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst()
    return row && fromUserRow(row)
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.#db.selectFrom('users').selectAll().execute()
    return rows.map(fromUserRow).sort((a, b) => compare(a.username, b.username))
  }

  async updateUserPassword(username: string, passwordHash: string, updatedAt: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: updatedAt })
      .where('username', '=', username)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  deleteUser(username: string, now: number): Promise<boolean> {
    return grantQueries.deleteUser(this.#db, this.kind, username, now)
  }

  /**
   * One `INSERT … ON CONFLICT DO UPDATE … RETURNING`: SQLite runs it under its write lock and
   * PostgreSQL locks the row, so concurrent failures on several instances all count.
   */
  async recordLoginFailure(key: string, now: number, rule: LoginFailureRule): Promise<LoginFailureRecord> {
    const lockUntil = now + rule.lockSec
    const expiresAt = now + rule.retainSec
    const fresh = sql<boolean>`(login_failures.window_start <= ${now - rule.windowSec} or (login_failures.locked_until is not null and login_failures.locked_until <= ${now}))`
    const failures = sql<number>`(case when ${fresh} then 1 else login_failures.failures + 1 end)`
    const row = await this.#db
      .insertInto('login_failures')
      .values({
        key,
        failures: 1,
        window_start: now,
        last_failure_at: now,
        locked_until: rule.lockAfter <= 1 ? lockUntil : null,
        expires_at: expiresAt,
      })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures,
          window_start: sql<number>`case when ${fresh} then ${now} else login_failures.window_start end`,
          last_failure_at: now,
          locked_until: sql<number | null>`case when ${failures} >= ${rule.lockAfter} then ${lockUntil} when ${fresh} then null else login_failures.locked_until end`,
          expires_at: sql<number>`case when login_failures.expires_at > ${expiresAt} then login_failures.expires_at else ${expiresAt} end`,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow()
    return fromLoginFailureRow(row)
  }

  async getLoginFailures(keys: readonly string[]): Promise<LoginFailureRecord[]> {
    if (keys.length === 0) return []
    const rows = await this.#db.selectFrom('login_failures').selectAll().where('key', 'in', [...new Set(keys)]).execute()
    return rows.map(fromLoginFailureRow).sort((a, b) => compare(a.key, b.key))
  }

  async clearLoginFailures(key: string): Promise<void> {
    await this.#db.deleteFrom('login_failures').where('key', '=', key).execute()
  }

  createInteraction(interaction: InteractionRecord): Promise<void> {
    return sessionQueries.createInteraction(this.#db, interaction)
  }

  getInteraction(idHash: string, now: number): Promise<InteractionRecord | undefined> {
    return sessionQueries.getInteraction(this.#db, idHash, now)
  }

  setInteractionUser(idHash: string, userId: string, authTime: number): Promise<boolean> {
    return sessionQueries.setInteractionUser(this.#db, idHash, userId, authTime)
  }

  deleteInteraction(idHash: string): Promise<boolean> {
    return sessionQueries.deleteInteraction(this.#db, idHash)
  }

  createSession(session: SessionRecord): Promise<void> {
    return sessionQueries.createSession(this.#db, session)
  }

  getSession(idHash: string, now: number): Promise<SessionRecord | undefined> {
    return sessionQueries.getSession(this.#db, idHash, now)
  }

  deleteSession(idHash: string): Promise<boolean> {
    return sessionQueries.deleteSession(this.#db, idHash)
  }

  getConsent(userId: string, clientId: string): Promise<ConsentRecord | undefined> {
    return sessionQueries.getConsent(this.#db, userId, clientId)
  }

  saveConsent(consent: ConsentRecord): Promise<void> {
    return sessionQueries.saveConsent(this.#db, consent)
  }

  createGrantWithCode(grant: GrantRecord, code: AuthorizationCodeRecord): Promise<void> {
    return grantQueries.createGrantWithCode(this.#db, grant, code)
  }

  getGrant(id: string): Promise<GrantRecord | undefined> {
    return grantQueries.getGrant(this.#db, id)
  }

  listSessionGrants(sessionIdHash: string): Promise<string[]> {
    return grantQueries.listSessionGrants(this.#db, sessionIdHash)
  }

  revokeGrant(grantId: string, now: number): Promise<RevocationRecord[]> {
    return grantQueries.revokeGrant(this.#db, this.kind, grantId, now)
  }

  getAuthorizationCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined> {
    return grantQueries.getAuthorizationCode(this.#db, codeHash)
  }

  consumeAuthorizationCode(codeHash: string, now: number): Promise<boolean> {
    return grantQueries.consumeAuthorizationCode(this.#db, codeHash, now)
  }

  recordGrantTokens(grantId: string, now: number, accessToken: GrantAccessToken, refreshToken: RefreshTokenRecord | undefined): Promise<boolean> {
    return grantQueries.recordGrantTokens(this.#db, this.kind, grantId, now, accessToken, refreshToken)
  }

  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    return grantQueries.getRefreshToken(this.#db, tokenHash)
  }

  rotateRefreshToken(tokenHash: string, now: number, successor: RefreshTokenRecord, accessToken: GrantAccessToken): Promise<RefreshRotation> {
    return grantQueries.rotateRefreshToken(this.#db, this.kind, tokenHash, now, successor, accessToken)
  }

  async appendAudit(events: readonly AuditEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += AUDIT_BATCH) {
      await this.#db
        .insertInto('audit_events')
        .values(events.slice(start, start + AUDIT_BATCH).map(toAuditRow))
        .execute()
    }
  }

  async listAudit(limit: number): Promise<AuditEvent[]> {
    const rows = await this.#db
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('ts', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute()
    return rows.map(fromAuditRow)
  }

  queryAudit(filter: AuditFilter, limit: number): Promise<AuditEvent[]> {
    return auditQueries.queryAudit(this.#db, this.kind, filter, limit)
  }

  /**
   * Deletes revocations, reference tokens, assertion `jti`s, login failures and CA records whose
   * expiry is before `now`, and interactions, sessions, access-token records and grants (with
   * their codes and refresh tokens) from their expiry on, when the store stops honouring them.
   */
  async purgeExpired(now: number): Promise<void> {
    await this.#db.deleteFrom('revocations').where('expires_at', '<', now).execute()
    await this.#db.deleteFrom('reference_tokens').where('expires_at', '<', now).execute()
    await this.#db.deleteFrom('assertion_jtis').where('expires_at', '<', now).execute()
    await this.#db.deleteFrom('login_failures').where('expires_at', '<', now).execute()
    await sessionQueries.purgeExpiredSessions(this.#db, now)
    await grantQueries.purgeExpiredGrants(this.#db, now)
    await this.purgeExpiredCaRecords(now)
  }

  async createJoinToken(token: JoinTokenRecord): Promise<void> {
    try {
      await this.#db.insertInto('ca_join_tokens').values(toJoinTokenRow(token)).execute()
    } catch (error) {
      throw conflictOr(error, `a join token with hash "${token.tokenHash}" already exists`)
    }
  }

  /**
   * One conditional `UPDATE … RETURNING`: SQLite runs it under its single write lock, and
   * PostgreSQL re-checks `used_at is null` on the row a concurrent redemption committed, so
   * only one caller, in any process, gets the row back.
   */
  async redeemJoinToken(tokenHash: string, now: number): Promise<JoinTokenRecord | undefined> {
    const row = await this.#db
      .updateTable('ca_join_tokens')
      .set({ used_at: now })
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst()
    return row && fromJoinTokenRow(row)
  }

  /** @throws MeshguardError `ERR_STORE_CONFLICT` when the serial number was recorded before. */
  async recordCertificate(certificate: CertificateRecord): Promise<void> {
    try {
      await this.#db.insertInto('ca_certificates').values(toCertificateRow(certificate)).execute()
    } catch (error) {
      throw conflictOr(error, `certificate serial number "${certificate.serialNumber}" was already recorded`)
    }
  }

  async getCertificate(serialNumber: string): Promise<CertificateRecord | undefined> {
    const row = await this.#db
      .selectFrom('ca_certificates')
      .selectAll()
      .where('serial_number', '=', serialNumber)
      .executeTakeFirst()
    return row && fromCertificateRow(row)
  }

  async revokeCertificate(serialNumber: string, revokedAt: number, reason: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('ca_certificates')
      .set({ revoked_at: revokedAt, revocation_reason: reason })
      .where('serial_number', '=', serialNumber)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  async listCertificates(): Promise<CertificateRecord[]> {
    const rows = await this.#db.selectFrom('ca_certificates').selectAll().orderBy('issued_at', 'desc').orderBy('serial_number').execute()
    return rows.map(fromCertificateRow)
  }

  /** Certificates revoked and with `notAfter >= now` (RFC 5280 §4.1.2.5: inclusive), oldest revocation first. */
  async listRevokedCertificates(now: number): Promise<CertificateRecord[]> {
    const rows = await this.#db
      .selectFrom('ca_certificates')
      .selectAll()
      .where('revoked_at', 'is not', null)
      .where('not_after', '>=', now)
      .orderBy('revoked_at')
      .orderBy('serial_number')
      .execute()
    return rows.map(fromCertificateRow)
  }

  /** Deletes join tokens whose `expiresAt`, and certificate records whose `notAfter`, is before `now`. */
  async purgeExpiredCaRecords(now: number): Promise<void> {
    await this.#db.deleteFrom('ca_join_tokens').where('expires_at', '<', now).execute()
    await this.#db.deleteFrom('ca_certificates').where('not_after', '<', now).execute()
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db)
  }

  close(): Promise<void> {
    this.#closed ??= this.#db.destroy()
    return this.#closed
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
