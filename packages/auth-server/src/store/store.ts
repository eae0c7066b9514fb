import type { JWK } from 'jose'
import type { CaStore, CertificateRecord } from '@meshguard/pki'
import type { SigningAlgorithm } from '@meshguard/token'
import type { TokenFormat } from '../tokens/token-format.js'

/**
 * What kind of client it is. `service`: a workload acting for itself (client credentials, token
 * exchange). `web`: a confidential server-side application with a user behind it. `spa` and
 * `native`: public clients that cannot keep a secret, so they authenticate with nothing but
 * PKCE (RFC 6749 §2.1, RFC 8252).
 */
export type ClientType = 'service' | 'web' | 'spa' | 'native'

/** A registered OAuth client. */
export interface ClientRecord {
  id: string
  type: ClientType
  /** Where authorization responses may go, compared exactly (RFC 6749 §3.1.2; RFC 8252 §7.3 for loopback). */
  redirectUris: string[]
  /** Where RP-initiated logout may send the browser afterwards (OpenID Connect RP-Initiated Logout §3). */
  postLogoutRedirectUris: string[]
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
  /** Whether the user may sign in to the console and administer the server. */
  admin: boolean
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

/**
 * An authorization request held between `/authorize` and the redirect back to the client, while
 * the user signs in and consents. The browser holds the id in a cookie; the store only its hash.
 */
export interface InteractionRecord {
  /** SHA-256 of the interaction id, base64url. */
  idHash: string
  /** The synchronizer token every form of this interaction must send back. */
  csrfToken: string
  clientId: string
  /** The validated authorization request (`authorize/authorization-request.ts`), as JSON. */
  request: Record<string, unknown>
  /** Set once the user signed in during this interaction. */
  userId: string | null
  authTime: number | null
  createdAt: number
  expiresAt: number
}

/** A signed-in browser. The cookie holds the session id; the store only its hash. */
export interface SessionRecord {
  /** SHA-256 of the session id, base64url. */
  idHash: string
  userId: string
  /** When the user last entered their password (OpenID Connect `auth_time`). */
  authTime: number
  /** The synchronizer token of the logout form. */
  csrfToken: string
  createdAt: number
  /** Absolute: the session ends then whatever happens. */
  expiresAt: number
}

/** The scopes a user allowed a client; asking for a subset needs no new consent. */
export interface ConsentRecord {
  userId: string
  clientId: string
  scopes: string[]
  updatedAt: number
}

/**
 * What a user granted a client through one authorization: the code, the access tokens and the
 * chain of refresh tokens it yields all belong to it, and revoking it revokes them all.
 */
export interface GrantRecord {
  id: string
  clientId: string
  userId: string
  /** Everything granted, OpenID Connect scopes included; a refresh may ask for less, never more. */
  scopes: string[]
  /** The audience of its access tokens: the resource servers of its scopes. */
  audience: string[]
  /** The session it was granted in, for an online grant (ended by logout); null with `offline_access`. */
  sessionIdHash: string | null
  authTime: number
  createdAt: number
  /** Absolute: no token of the grant outlives it. */
  expiresAt: number
  revokedAt: number | null
}

/** An authorization code (RFC 6749 §4.1.2), single-use; the store only its hash. */
export interface AuthorizationCodeRecord {
  /** SHA-256 of the code, base64url. */
  codeHash: string
  grantId: string
  clientId: string
  redirectUri: string
  /** RFC 7636 S256 challenge; null only for a confidential client outside the high tier. */
  codeChallenge: string | null
  /** OpenID Connect `nonce`, repeated in the ID token. */
  nonce: string | null
  createdAt: number
  expiresAt: number
  /** Set by the first redemption. */
  consumedAt: number | null
}

/** A refresh token (RFC 6749 §6); the store only its hash. Rotated on every use. */
export interface RefreshTokenRecord {
  /** SHA-256 of the token, base64url. */
  tokenHash: string
  grantId: string
  clientId: string
  createdAt: number
  /** Sliding: `min(last use + idle lifetime, grant expiry)`. */
  expiresAt: number
  /** Set when it was exchanged for its successor; presenting it again is reuse. */
  rotatedAt: number | null
}

/** An access token issued under a grant, remembered so revoking the grant revokes it. */
export interface GrantAccessToken {
  jti: string
  expiresAt: number
}

/** The outcome of {@link Store.rotateRefreshToken}. */
export type RefreshRotation = 'rotated' | 'reused' | 'grant_revoked'

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
 * What {@link Store.queryAudit} selects; every criterion given must hold. Times in milliseconds,
 * both bounds inclusive.
 */
export interface AuditFilter {
  type?: string | undefined
  decision?: AuditDecision | undefined
  clientId?: string | undefined
  /** `details.service`: the service a `service.call` event was reported by. */
  service?: string | undefined
  /** A case-insensitive substring of `reason` (ASCII case folding). */
  reason?: string | undefined
  since?: number | undefined
  until?: number | undefined
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
  /** Deletes the user with their sessions and consents, and revokes their grants at `now` with their unexpired access tokens. @returns false when there was no such user. */
  deleteUser(username: string, now: number): Promise<boolean>

  /** Counts one failure against `key` in a single atomic statement, so concurrent instances never lose a count. */
  recordLoginFailure(key: string, now: number, rule: LoginFailureRule): Promise<LoginFailureRecord>
  getLoginFailures(keys: readonly string[]): Promise<LoginFailureRecord[]>
  clearLoginFailures(key: string): Promise<void>

  /** Fails with `ERR_STORE_CONFLICT` when the hash exists. */
  createInteraction(interaction: InteractionRecord): Promise<void>
  /** Undefined when unknown or expired (`now` past `expiresAt`). */
  getInteraction(idHash: string, now: number): Promise<InteractionRecord | undefined>
  /** Records who signed in. @returns false when the interaction is gone. */
  setInteractionUser(idHash: string, userId: string, authTime: number): Promise<boolean>
  /** Ends the interaction; only the caller that gets true may complete it. */
  deleteInteraction(idHash: string): Promise<boolean>

  /** Fails with `ERR_STORE_CONFLICT` when the hash exists. */
  createSession(session: SessionRecord): Promise<void>
  /** Undefined when unknown or expired. */
  getSession(idHash: string, now: number): Promise<SessionRecord | undefined>
  /** @returns false when there was no such session. */
  deleteSession(idHash: string): Promise<boolean>

  getConsent(userId: string, clientId: string): Promise<ConsentRecord | undefined>
  /** Inserts or replaces the user's consent for the client. */
  saveConsent(consent: ConsentRecord): Promise<void>

  /** Stores a new grant and its authorization code together. */
  createGrantWithCode(grant: GrantRecord, code: AuthorizationCodeRecord): Promise<void>
  getGrant(id: string): Promise<GrantRecord | undefined>
  /** Ids of the grants, revoked or not, made in a session. */
  listSessionGrants(sessionIdHash: string): Promise<string[]>
  /**
   * In one transaction: marks the grant revoked and stores a revocation for each of its access
   * tokens not yet expired. @returns the revocations newly stored, for announcing; none when the
   * grant was already revoked or is unknown.
   */
  revokeGrant(grantId: string, now: number): Promise<RevocationRecord[]>

  getAuthorizationCode(codeHash: string): Promise<AuthorizationCodeRecord | undefined>
  /** Marks the code used. @returns true for exactly one caller however many race. */
  consumeAuthorizationCode(codeHash: string, now: number): Promise<boolean>
  /**
   * In one transaction, serialised with {@link revokeGrant} on the grant: records the access
   * token issued for a grant and, when given, its first refresh token. @returns false, storing
   * nothing, when the grant is revoked (a racing reuse of its code), unknown, or expired at `now`.
   */
  recordGrantTokens(grantId: string, now: number, accessToken: GrantAccessToken, refreshToken: RefreshTokenRecord | undefined): Promise<boolean>

  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>
  /**
   * In one transaction, serialised with {@link revokeGrant} on the grant: marks the token rotated,
   * stores its successor and records the new access token. `reused` when the token was already
   * rotated (nothing is stored; the caller revokes the grant), `grant_revoked` when the grant is
   * revoked, unknown or expired at `now`.
   */
  rotateRefreshToken(
    tokenHash: string,
    now: number,
    successor: RefreshTokenRecord,
    accessToken: GrantAccessToken,
  ): Promise<RefreshRotation>

  appendAudit(events: readonly AuditEvent[]): Promise<void>
  /** Newest first. */
  listAudit(limit: number): Promise<AuditEvent[]>
  /** The events that match `filter`, newest first (the later-stored first at equal times), at most `limit`. */
  queryAudit(filter: AuditFilter, limit: number): Promise<AuditEvent[]>

  /** Every certificate the CA recorded and has not purged, newest issued first. */
  listCertificates(): Promise<CertificateRecord[]>

  /**
   * Drops revocations, reference tokens, assertion `jti`s, login failures, interactions,
   * sessions and CA records (see `purgeExpiredCaRecords`) past their expiry, and grants past
   * theirs with their codes, refresh tokens and access-token records. Rotated refresh tokens and
   * used codes stay as long as their grant, so a late reuse is still recognised.
   */
  purgeExpired(now: number): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
}
