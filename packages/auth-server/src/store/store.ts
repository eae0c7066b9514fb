import type { JWK } from 'jose'
import type { CaStore } from '@meshguard/pki'
import type { SigningAlgorithm } from '@meshguard/token'
import type { TokenFormat } from '../tokens/token-format.js'

/** A registered OAuth client. */
export interface ClientRecord {
  id: string
  /** `sha256$<salt>$<digest>`, see `crypto/client-secret.ts`; null for `private_key_jwt` and `tls_client_auth` clients. */
  secretHash: string | null
  /** Public keys for `private_key_jwt` (RFC 7523); null for other clients. */
  jwks: JWK[] | null
  /**
   * RFC 8705 §2.1.2 `tls_client_auth_san_uri`: the SPIFFE ID the client's certificate must name
   * for it to authenticate with `tls_client_auth`; null for other clients.
   */
  tlsClientAuthSanUri: string | null
  grantTypes: string[]
  /** The scopes this client may ask for. */
  scopes: string[]
  /** RFC 8693 §4.4: when set, tokens issued to this client name the one party that may act for it. */
  mayAct: string | null
  /** Whether the token endpoint hands this client the JWT or an opaque reference to it. */
  tokenFormat: TokenFormat
  /**
   * The phantom-token exchange: whether this client may ask the introspection endpoint for the
   * JWT an active token stands for (`Accept: application/jwt`). For gateways only.
   */
  phantomTokens: boolean
  createdAt: number
}

/** A resource server (an API): its audience identifier and the scopes it defines. */
export interface ResourceServerRecord {
  id: string
  scopes: string[]
  createdAt: number
}

/**
 * `next`: published in the JWKS, not yet signing. `active`: the one key that signs.
 * `retired`: no longer signs, published until `expiresAt` so its tokens still verify.
 */
export type SigningKeyState = 'next' | 'active' | 'retired'

export interface SigningKeyRecord {
  kid: string
  alg: SigningAlgorithm
  state: SigningKeyState
  publicJwk: JWK
  /** The PKCS#8 private key, sealed by `crypto/key-encryption.ts`. */
  privateKeySealed: string
  createdAt: number
  activatedAt: number | null
  retiredAt: number | null
  /** When a retired key leaves the JWKS. */
  expiresAt: number | null
}

/** Changes applied atomically by {@link Store.applyKeyChanges}. */
export interface KeyChanges {
  insert?: SigningKeyRecord[]
  update?: Array<Pick<SigningKeyRecord, 'kid' | 'state' | 'activatedAt' | 'retiredAt' | 'expiresAt'>>
  delete?: string[]
}

export interface RevocationRecord {
  jti: string
  clientId: string
  /** When the revoked token would have expired; the record may be purged after that. */
  expiresAt: number
  revokedAt: number
}

/**
 * An opaque access token's server-side half. The token itself is never stored: the record is
 * found by its hash, and the JWT is sealed under a key derived from the token, so reading the
 * store yields no usable token.
 */
export interface ReferenceTokenRecord {
  /** SHA-256 of the opaque token, base64url. */
  tokenHash: string
  /** The JWT's `jti`, `client_id` and `exp`, readable without the token. */
  jti: string
  clientId: string
  expiresAt: number
  /** The RFC 9068 JWT, sealed by `tokens/reference-tokens.ts`. */
  sealedJwt: string
}

/**
 * An end user who signs in with a password. `username` is the canonical form (see
 * `users/username.ts`: NFKC, then lower case), unique; `id` is the stable subject.
 */
export interface UserRecord {
  id: string
  username: string
  /** `scrypt$N$r$p$salt$hash`, see `crypto/password-hash.ts`. */
  passwordHash: string
  /** OpenID Connect Core §5.1 `name`. */
  name: string | null
  /** OpenID Connect Core §5.1 `email`. */
  email: string | null
  createdAt: number
  updatedAt: number
}

/**
 * Failed sign-ins counted against one key (`account:<username>` or `ip:<address>`) within a
 * window; shared by every instance on the store. Times in seconds.
 */
export interface LoginFailureRecord {
  key: string
  /** Failures since `windowStart`. */
  failures: number
  windowStart: number
  lastFailureAt: number
  /** Set when `failures` reached the lock threshold; no attempt is verified before it. */
  lockedUntil: number | null
}

/** How {@link Store.recordLoginFailure} counts; the throttling policy lives in `users/login-throttle.ts`. */
export interface LoginFailureRule {
  /** A failure after `windowSec` from the window start, or after a lock ended, starts a new window. */
  windowSec: number
  /** The failure that brings the count to this locks the key for `lockSec`. */
  lockAfter: number
  lockSec: number
  /** The record may be purged after `now + retainSec`. */
  retainSec: number
}

export type AuditDecision = 'allow' | 'deny'

export interface AuditEvent {
  /** Milliseconds since the epoch. */
  ts: number
  type: string
  decision: AuditDecision
  clientId?: string | undefined
  subject?: string | undefined
  jti?: string | undefined
  /** The delegation chain, most recent actor first. */
  act?: string[] | undefined
  reason?: string | undefined
  details?: Record<string, unknown> | undefined
}

/**
 * Everything the authorization server keeps, the certificate authority's state included.
 * Times are seconds since the epoch unless named otherwise. Each backend passes
 * `test/store-conformance.ts`.
 */
export interface Store extends CaStore {
  readonly kind: 'sqlite' | 'postgres'

  createClient(client: ClientRecord): Promise<void>
  getClient(id: string): Promise<ClientRecord | undefined>
  listClients(): Promise<ClientRecord[]>
  /** @returns false when there was no such client. */
  deleteClient(id: string): Promise<boolean>

  /** Fails with `ERR_STORE_CONFLICT` when the id exists or a scope already belongs to another resource server. */
  createResourceServer(resource: ResourceServerRecord): Promise<void>
  listResourceServers(): Promise<ResourceServerRecord[]>
  deleteResourceServer(id: string): Promise<boolean>
  /** Maps each known scope to the resource server that defines it. */
  resolveScopes(scopes: readonly string[]): Promise<Map<string, string>>

  listSigningKeys(): Promise<SigningKeyRecord[]>
  /** All or nothing; fails with `ERR_STORE_CONFLICT` if it would leave two active keys. */
  applyKeyChanges(changes: KeyChanges): Promise<void>

  /** @returns false when the `jti` was already revoked. */
  revokeToken(revocation: RevocationRecord): Promise<boolean>
  isRevoked(jti: string): Promise<boolean>
  listRevocations(sinceRevokedAt: number): Promise<RevocationRecord[]>

  /** Fails with `ERR_STORE_CONFLICT` when the hash exists. */
  saveReferenceToken(record: ReferenceTokenRecord): Promise<void>
  getReferenceToken(tokenHash: string): Promise<ReferenceTokenRecord | undefined>

  /** Records a client assertion `jti` (RFC 7523 §3 item 7). @returns false when it was seen before. */
  consumeAssertionJti(clientId: string, jti: string, expiresAt: number): Promise<boolean>

  /** Fails with `ERR_STORE_CONFLICT` when the id or the username exists. */
  createUser(user: UserRecord): Promise<void>
  getUser(id: string): Promise<UserRecord | undefined>
  /** @param username in canonical form. */
  getUserByUsername(username: string): Promise<UserRecord | undefined>
  /** By username. */
  listUsers(): Promise<UserRecord[]>
  /** @returns false when there was no such user. */
  updateUserPassword(username: string, passwordHash: string, updatedAt: number): Promise<boolean>
  /** @returns false when there was no such user. */
  deleteUser(username: string): Promise<boolean>

  /** Counts one failure against `key` in a single atomic statement, so concurrent instances never lose a count. */
  recordLoginFailure(key: string, now: number, rule: LoginFailureRule): Promise<LoginFailureRecord>
  getLoginFailures(keys: readonly string[]): Promise<LoginFailureRecord[]>
  clearLoginFailures(key: string): Promise<void>

  appendAudit(events: readonly AuditEvent[]): Promise<void>
  /** Newest first. */
  listAudit(limit: number): Promise<AuditEvent[]>

  /** Drops revocations, reference tokens, assertion `jti`s, login failures and CA records (see `purgeExpiredCaRecords`) past their expiry. */
  purgeExpired(now: number): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
}
