import { inspect } from 'node:util'
import { Migrator, sql } from 'kysely'
import type { ColumnType, Generated, Kysely, Migration } from 'kysely'
import type { IssuanceKind } from '@meshguard/pki'
import type { SigningAlgorithm } from '@meshguard/token'
import type { TokenFormat } from '../tokens/token-format.js'
import type { AuditDecision, ClientType, SigningKeyState, Store } from './store.js'

/** The SQL backends a {@link Store} can run on. */
export type StoreKind = Store['kind']

/** A `bigint` column: written as a number, read back as a string from PostgreSQL. */
type BigIntColumn = ColumnType<number | string, number, number>
type NullableBigIntColumn = ColumnType<number | string | null, number | null, number | null>
/** `JSON.stringify` output. */
type JsonText = string

/**
 * The tables as the latest migration leaves them, for `Kysely<Database>`. Times as in
 * {@link Store}; change this type together with the migration that changes the schema.
 */
export interface Database {
  clients: {
    id: string
    secret_hash: string | null
    jwks: JsonText | null
    grant_types: JsonText
    scopes: JsonText
    may_act: string | null
    created_at: BigIntColumn
    /** RFC 8705 §2.1.2: the SPIFFE ID a `tls_client_auth` client's certificate names. */
    tls_client_auth_san_uri: string | null
    token_format: TokenFormat
    /** 0 or 1: whether the client may use the phantom-token exchange. */
    phantom_tokens: number
    client_type: ClientType
    /** `string[]` */
    redirect_uris: JsonText
    /** `string[]` */
    post_logout_redirect_uris: JsonText
  }
  resource_servers: { id: string; created_at: BigIntColumn }
  scopes: { scope: string; resource_server_id: string }
  signing_keys: {
    kid: string
    alg: SigningAlgorithm
    state: SigningKeyState
    public_jwk: JsonText
    private_key_sealed: string
    created_at: BigIntColumn
    activated_at: NullableBigIntColumn
    retired_at: NullableBigIntColumn
    expires_at: NullableBigIntColumn
  }
  revocations: { jti: string; client_id: string; expires_at: BigIntColumn; revoked_at: BigIntColumn }
  reference_tokens: { token_hash: string; jti: string; client_id: string; expires_at: BigIntColumn; sealed_jwt: string }
  assertion_jtis: { client_id: string; jti: string; expires_at: BigIntColumn }
  audit_events: {
    id: Generated<number | string>
    /** Milliseconds since the epoch. */
    ts: BigIntColumn
    type: string
    decision: AuditDecision
    client_id: string | null
    subject: string | null
    jti: string | null
    act: JsonText | null
    reason: string | null
    details: JsonText | null
  }
  users: {
    id: string
    /** Canonical: NFKC, then lower case. */
    username: string
    password_hash: string
    name: string | null
    email: string | null
    created_at: BigIntColumn
    updated_at: BigIntColumn
    /** 0 or 1: whether the user may sign in to the console. */
    admin: number
  }
  login_failures: {
    /** `account:<username>` or `ip:<address>`. */
    key: string
    failures: number
    window_start: BigIntColumn
    last_failure_at: BigIntColumn
    locked_until: NullableBigIntColumn
    /** When the record stops mattering and may be purged. */
    expires_at: BigIntColumn
  }
  ca_join_tokens: {
    token_hash: string
    spiffe_id: string
    /** `string[]` */
    dns_names: JsonText
    created_at: BigIntColumn
    expires_at: BigIntColumn
    used_at: NullableBigIntColumn
  }
  ca_certificates: {
    serial_number: string
    spiffe_id: string
    kind: IssuanceKind
    not_before: BigIntColumn
    not_after: BigIntColumn
    issued_at: BigIntColumn
    revoked_at: NullableBigIntColumn
    revocation_reason: string | null
  }
  interactions: {
    id_hash: string
    csrf_token: string
    client_id: string
    /** The authorization request, `Record<string, unknown>`. */
    request: JsonText
    user_id: string | null
    auth_time: NullableBigIntColumn
    created_at: BigIntColumn
    expires_at: BigIntColumn
  }
  sessions: {
    id_hash: string
    user_id: string
    auth_time: BigIntColumn
    csrf_token: string
    created_at: BigIntColumn
    expires_at: BigIntColumn
  }
  consents: {
    user_id: string
    client_id: string
    /** `string[]` */
    scopes: JsonText
    updated_at: BigIntColumn
  }
  grants: {
    id: string
    client_id: string
    user_id: string
    /** `string[]` */
    scopes: JsonText
    /** `string[]` */
    audience: JsonText
    session_id_hash: string | null
    auth_time: BigIntColumn
    created_at: BigIntColumn
    expires_at: BigIntColumn
    revoked_at: NullableBigIntColumn
  }
  grant_access_tokens: { grant_id: string; jti: string; expires_at: BigIntColumn }
  authorization_codes: {
    code_hash: string
    grant_id: string
    client_id: string
    redirect_uri: string
    code_challenge: string | null
    nonce: string | null
    created_at: BigIntColumn
    expires_at: BigIntColumn
    consumed_at: NullableBigIntColumn
  }
  refresh_tokens: {
    token_hash: string
    grant_id: string
    client_id: string
    created_at: BigIntColumn
    expires_at: BigIntColumn
    rotated_at: NullableBigIntColumn
  }
}

/**
 * Every version of the schema, applied in the lexical order of their names. Once released,
 * a migration is never edited: a change is a new entry with the next number.
 *
 * The schema builder writes the same statements for SQLite and PostgreSQL except for the
 * auto-incremented audit id, which is why the set depends on `kind`.
 */
export function migrations(kind: StoreKind): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('clients')
          .addColumn('id', 'text', (col) => col.primaryKey().notNull())
          .addColumn('secret_hash', 'text')
          .addColumn('jwks', 'text')
          .addColumn('grant_types', 'text', (col) => col.notNull())
          .addColumn('scopes', 'text', (col) => col.notNull())
          .addColumn('may_act', 'text')
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .execute()

        await db.schema
          .createTable('resource_servers')
          .addColumn('id', 'text', (col) => col.primaryKey().notNull())
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .execute()

        await db.schema
          .createTable('scopes')
          .addColumn('scope', 'text', (col) => col.primaryKey().notNull())
          .addColumn('resource_server_id', 'text', (col) =>
            col.notNull().references('resource_servers.id').onDelete('cascade'),
          )
          .execute()
        await db.schema.createIndex('scopes_resource_server_id').on('scopes').column('resource_server_id').execute()

        await db.schema
          .createTable('signing_keys')
          .addColumn('kid', 'text', (col) => col.primaryKey().notNull())
          .addColumn('alg', 'text', (col) => col.notNull())
          .addColumn('state', 'text', (col) => col.notNull())
          .addColumn('public_jwk', 'text', (col) => col.notNull())
          .addColumn('private_key_sealed', 'text', (col) => col.notNull())
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .addColumn('activated_at', 'bigint')
          .addColumn('retired_at', 'bigint')
          .addColumn('expires_at', 'bigint')
          .addCheckConstraint('signing_keys_state', sql`state in ('next', 'active', 'retired')`)
          .execute()
        await db.schema
          .createIndex('signing_keys_single_active')
          .on('signing_keys')
          .column('state')
          .unique()
          .where('state', '=', 'active')
          .execute()

        await db.schema
          .createTable('revocations')
          .addColumn('jti', 'text', (col) => col.primaryKey().notNull())
          .addColumn('client_id', 'text', (col) => col.notNull())
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .addColumn('revoked_at', 'bigint', (col) => col.notNull())
          .execute()
        await db.schema.createIndex('revocations_revoked_at').on('revocations').column('revoked_at').execute()

        await db.schema
          .createTable('assertion_jtis')
          .addColumn('client_id', 'text', (col) => col.notNull())
          .addColumn('jti', 'text', (col) => col.notNull())
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .addPrimaryKeyConstraint('assertion_jtis_pkey', ['client_id', 'jti'])
          .execute()

        await db.schema
          .createTable('audit_events')
          .addColumn('id', kind === 'postgres' ? 'bigserial' : 'integer', (col) =>
            kind === 'postgres' ? col.primaryKey() : col.primaryKey().autoIncrement(),
          )
          .addColumn('ts', 'bigint', (col) => col.notNull())
          .addColumn('type', 'text', (col) => col.notNull())
          .addColumn('decision', 'text', (col) => col.notNull())
          .addColumn('client_id', 'text')
          .addColumn('subject', 'text')
          .addColumn('jti', 'text')
          .addColumn('act', 'text')
          .addColumn('reason', 'text')
          .addColumn('details', 'text')
          .addCheckConstraint('audit_events_decision', sql`decision in ('allow', 'deny')`)
          .execute()
        await db.schema.createIndex('audit_events_ts').on('audit_events').column('ts').execute()
      },

      async down(db: Kysely<unknown>) {
        for (const table of [
          'audit_events',
          'assertion_jtis',
          'revocations',
          'signing_keys',
          'scopes',
          'resource_servers',
          'clients',
        ]) {
          await db.schema.dropTable(table).execute()
        }
      },
    },

    '0002_ca_store': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('ca_join_tokens')
          .addColumn('token_hash', 'text', (col) => col.primaryKey().notNull())
          .addColumn('spiffe_id', 'text', (col) => col.notNull())
          .addColumn('dns_names', 'text', (col) => col.notNull())
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .addColumn('used_at', 'bigint')
          .execute()
        await db.schema.createIndex('ca_join_tokens_expires_at').on('ca_join_tokens').column('expires_at').execute()

        await db.schema
          .createTable('ca_certificates')
          .addColumn('serial_number', 'text', (col) => col.primaryKey().notNull())
          .addColumn('spiffe_id', 'text', (col) => col.notNull())
          .addColumn('kind', 'text', (col) => col.notNull())
          .addColumn('not_before', 'bigint', (col) => col.notNull())
          .addColumn('not_after', 'bigint', (col) => col.notNull())
          .addColumn('issued_at', 'bigint', (col) => col.notNull())
          .addColumn('revoked_at', 'bigint')
          .addColumn('revocation_reason', 'text')
          .addCheckConstraint('ca_certificates_kind', sql`kind in ('join', 'renewal', 'offline')`)
          .addCheckConstraint('ca_certificates_revocation', sql`(revoked_at is null) = (revocation_reason is null)`)
          .execute()
        await db.schema.createIndex('ca_certificates_not_after').on('ca_certificates').column('not_after').execute()
        // The CRL: only the few revoked certificates, by expiry.
        await db.schema
          .createIndex('ca_certificates_revoked_not_after')
          .on('ca_certificates')
          .column('not_after')
          .where(sql.ref('revoked_at'), 'is not', null)
          .execute()
      },

      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('ca_certificates').execute()
        await db.schema.dropTable('ca_join_tokens').execute()
      },
    },

    '0003_tls_client_auth': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('clients').addColumn('tls_client_auth_san_uri', 'text').execute()
      },

      async down(db: Kysely<unknown>) {
        await db.schema.alterTable('clients').dropColumn('tls_client_auth_san_uri').execute()
      },
    },

    '0004_reference_tokens': {
      async up(db: Kysely<unknown>) {
        // SQLite adds one column per statement.
        await db.schema
          .alterTable('clients')
          .addColumn('token_format', 'text', (col) => col.notNull().defaultTo('jwt').check(sql`token_format in ('jwt', 'reference')`))
          .execute()
        await db.schema
          .alterTable('clients')
          .addColumn('phantom_tokens', 'integer', (col) => col.notNull().defaultTo(0).check(sql`phantom_tokens in (0, 1)`))
          .execute()

        await db.schema
          .createTable('reference_tokens')
          .addColumn('token_hash', 'text', (col) => col.primaryKey().notNull())
          .addColumn('jti', 'text', (col) => col.notNull())
          .addColumn('client_id', 'text', (col) => col.notNull())
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .addColumn('sealed_jwt', 'text', (col) => col.notNull())
          .execute()
        await db.schema.createIndex('reference_tokens_expires_at').on('reference_tokens').column('expires_at').execute()
      },

      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('reference_tokens').execute()
        await db.schema.alterTable('clients').dropColumn('phantom_tokens').execute()
        await db.schema.alterTable('clients').dropColumn('token_format').execute()
      },
    },

    '0005_users': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (col) => col.primaryKey().notNull())
          .addColumn('username', 'text', (col) => col.notNull().unique())
          .addColumn('password_hash', 'text', (col) => col.notNull())
          .addColumn('name', 'text')
          .addColumn('email', 'text')
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .addColumn('updated_at', 'bigint', (col) => col.notNull())
          .execute()

        await db.schema
          .createTable('login_failures')
          .addColumn('key', 'text', (col) => col.primaryKey().notNull())
          .addColumn('failures', 'integer', (col) => col.notNull())
          .addColumn('window_start', 'bigint', (col) => col.notNull())
          .addColumn('last_failure_at', 'bigint', (col) => col.notNull())
          .addColumn('locked_until', 'bigint')
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .execute()
        await db.schema.createIndex('login_failures_expires_at').on('login_failures').column('expires_at').execute()
      },

      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('login_failures').execute()
        await db.schema.dropTable('users').execute()
      },
    },

    '0006_end_user_grants': {
      async up(db: Kysely<unknown>) {
        // SQLite adds one column per statement.
        await db.schema
          .alterTable('clients')
          .addColumn('client_type', 'text', (col) =>
            col.notNull().defaultTo('service').check(sql`client_type in ('service', 'web', 'spa', 'native')`),
          )
          .execute()
        await db.schema.alterTable('clients').addColumn('redirect_uris', 'text', (col) => col.notNull().defaultTo('[]')).execute()
        await db.schema
          .alterTable('clients')
          .addColumn('post_logout_redirect_uris', 'text', (col) => col.notNull().defaultTo('[]'))
          .execute()

        await db.schema
          .createTable('interactions')
          .addColumn('id_hash', 'text', (col) => col.primaryKey().notNull())
          .addColumn('csrf_token', 'text', (col) => col.notNull())
          .addColumn('client_id', 'text', (col) => col.notNull())
          .addColumn('request', 'text', (col) => col.notNull())
          .addColumn('user_id', 'text')
          .addColumn('auth_time', 'bigint')
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .execute()
        await db.schema.createIndex('interactions_expires_at').on('interactions').column('expires_at').execute()

        await db.schema
          .createTable('sessions')
          .addColumn('id_hash', 'text', (col) => col.primaryKey().notNull())
          .addColumn('user_id', 'text', (col) => col.notNull())
          .addColumn('auth_time', 'bigint', (col) => col.notNull())
          .addColumn('csrf_token', 'text', (col) => col.notNull())
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .execute()
        await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute()
        await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute()

        await db.schema
          .createTable('consents')
          .addColumn('user_id', 'text', (col) => col.notNull())
          .addColumn('client_id', 'text', (col) => col.notNull())
          .addColumn('scopes', 'text', (col) => col.notNull())
          .addColumn('updated_at', 'bigint', (col) => col.notNull())
          .addPrimaryKeyConstraint('consents_pkey', ['user_id', 'client_id'])
          .execute()

        await db.schema
          .createTable('grants')
          .addColumn('id', 'text', (col) => col.primaryKey().notNull())
          .addColumn('client_id', 'text', (col) => col.notNull())
          .addColumn('user_id', 'text', (col) => col.notNull())
          .addColumn('scopes', 'text', (col) => col.notNull())
          .addColumn('audience', 'text', (col) => col.notNull())
          .addColumn('session_id_hash', 'text')
          .addColumn('auth_time', 'bigint', (col) => col.notNull())
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .addColumn('revoked_at', 'bigint')
          .execute()
        await db.schema.createIndex('grants_expires_at').on('grants').column('expires_at').execute()
        await db.schema.createIndex('grants_session_id_hash').on('grants').column('session_id_hash').execute()
        await db.schema.createIndex('grants_user_id').on('grants').column('user_id').execute()

        // A grant's tokens and code go with it: purging the grant deletes them.
        await db.schema
          .createTable('grant_access_tokens')
          .addColumn('grant_id', 'text', (col) => col.notNull().references('grants.id').onDelete('cascade'))
          .addColumn('jti', 'text', (col) => col.notNull())
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .addPrimaryKeyConstraint('grant_access_tokens_pkey', ['grant_id', 'jti'])
          .execute()
        await db.schema.createIndex('grant_access_tokens_expires_at').on('grant_access_tokens').column('expires_at').execute()

        await db.schema
          .createTable('authorization_codes')
          .addColumn('code_hash', 'text', (col) => col.primaryKey().notNull())
          .addColumn('grant_id', 'text', (col) => col.notNull().references('grants.id').onDelete('cascade'))
          .addColumn('client_id', 'text', (col) => col.notNull())
          .addColumn('redirect_uri', 'text', (col) => col.notNull())
          .addColumn('code_challenge', 'text')
          .addColumn('nonce', 'text')
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .addColumn('consumed_at', 'bigint')
          .execute()
        await db.schema.createIndex('authorization_codes_grant_id').on('authorization_codes').column('grant_id').execute()

        await db.schema
          .createTable('refresh_tokens')
          .addColumn('token_hash', 'text', (col) => col.primaryKey().notNull())
          .addColumn('grant_id', 'text', (col) => col.notNull().references('grants.id').onDelete('cascade'))
          .addColumn('client_id', 'text', (col) => col.notNull())
          .addColumn('created_at', 'bigint', (col) => col.notNull())
          .addColumn('expires_at', 'bigint', (col) => col.notNull())
          .addColumn('rotated_at', 'bigint')
          .execute()
        await db.schema.createIndex('refresh_tokens_grant_id').on('refresh_tokens').column('grant_id').execute()
      },

      async down(db: Kysely<unknown>) {
        for (const table of [
          'refresh_tokens',
          'authorization_codes',
          'grant_access_tokens',
          'grants',
          'consents',
          'sessions',
          'interactions',
        ]) {
          await db.schema.dropTable(table).execute()
        }
        await db.schema.alterTable('clients').dropColumn('post_logout_redirect_uris').execute()
        await db.schema.alterTable('clients').dropColumn('redirect_uris').execute()
        await db.schema.alterTable('clients').dropColumn('client_type').execute()
      },
    },

    '0007_user_admin': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('users')
          .addColumn('admin', 'integer', (col) => col.notNull().defaultTo(0).check(sql`admin in (0, 1)`))
          .execute()
      },

      async down(db: Kysely<unknown>) {
        await db.schema.alterTable('users').dropColumn('admin').execute()
      },
    },
  }
}

/**
 * Brings the schema to the latest version. On PostgreSQL, Kysely's `Migrator` holds a
 * session advisory lock and runs the pending migrations in one transaction, so instances
 * starting together apply each migration once. SQLite callers make the run atomic and
 * exclusive themselves (see `openSqliteStore`).
 *
 * @throws Error naming the failed migration, with the database error as `cause`.
 *
 * @example
 * ```ts
 * await migrateToLatest(db, 'postgres')
 * ```
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, kind: StoreKind): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations(kind)) },
  })
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error === undefined) return
  const failed = results.find((result) => result.status === 'Error')?.migrationName
  const reason = error instanceof Error ? error.message : inspect(error)
  const step = failed === undefined ? '' : ` at migration "${failed}"`
  throw new Error(`Meshguard could not migrate the ${kind} store${step}: ${reason}`, { cause: error })
}
