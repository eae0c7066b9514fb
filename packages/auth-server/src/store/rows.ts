import type { Insertable, Selectable } from 'kysely'
import type { JWK } from 'jose'
import type { CertificateRecord, JoinTokenRecord } from '@meshguard/pki'
import type { Database } from './migrations.js'
import type {
  AuditEvent,
  AuthorizationCodeRecord,
  ClientRecord,
  ConsentRecord,
  GrantRecord,
  InteractionRecord,
  LoginFailureRecord,
  ReferenceTokenRecord,
  RefreshTokenRecord,
  RevocationRecord,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from './store.js'

// How each record maps to its table row and back: JSON as text, and times read back as
// numbers whether the driver returns a number (SQLite) or a string (PostgreSQL `bigint`).

function optionalNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value)
}

export function toClientRow(client: ClientRecord): Insertable<Database['clients']> {
  return {
    id: client.id,
    client_type: client.type,
    redirect_uris: JSON.stringify(client.redirectUris),
    post_logout_redirect_uris: JSON.stringify(client.postLogoutRedirectUris),
    secret_hash: client.secretHash,
    jwks: client.jwks && JSON.stringify(client.jwks),
    grant_types: JSON.stringify(client.grantTypes),
    scopes: JSON.stringify(client.scopes),
    may_act: client.mayAct,
    created_at: client.createdAt,
    tls_client_auth_san_uri: client.tlsClientAuthSanUri,
    token_format: client.tokenFormat,
    phantom_tokens: client.phantomTokens ? 1 : 0,
  }
}

export function fromClientRow(row: Selectable<Database['clients']>): ClientRecord {
  return {
    id: row.id,
    type: row.client_type,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    secretHash: row.secret_hash,
    jwks: row.jwks === null ? null : (JSON.parse(row.jwks) as JWK[]),
    grantTypes: JSON.parse(row.grant_types) as string[],
    scopes: JSON.parse(row.scopes) as string[],
    mayAct: row.may_act,
    createdAt: Number(row.created_at),
    tlsClientAuthSanUri: row.tls_client_auth_san_uri,
    tokenFormat: row.token_format,
    phantomTokens: row.phantom_tokens === 1,
  }
}

export function fromRevocationRow(row: Selectable<Database['revocations']>): RevocationRecord {
  return {
    jti: row.jti,
    clientId: row.client_id,
    expiresAt: Number(row.expires_at),
    revokedAt: Number(row.revoked_at),
  }
}

export function toReferenceTokenRow(record: ReferenceTokenRecord): Insertable<Database['reference_tokens']> {
  return {
    token_hash: record.tokenHash,
    jti: record.jti,
    client_id: record.clientId,
    expires_at: record.expiresAt,
    sealed_jwt: record.sealedJwt,
  }
}

export function fromReferenceTokenRow(row: Selectable<Database['reference_tokens']>): ReferenceTokenRecord {
  return {
    tokenHash: row.token_hash,
    jti: row.jti,
    clientId: row.client_id,
    expiresAt: Number(row.expires_at),
    sealedJwt: row.sealed_jwt,
  }
}

export function toSigningKeyRow(key: SigningKeyRecord): Insertable<Database['signing_keys']> {
  return {
    kid: key.kid,
    alg: key.alg,
    state: key.state,
    public_jwk: JSON.stringify(key.publicJwk),
    private_key_sealed: key.privateKeySealed,
    created_at: key.createdAt,
    activated_at: key.activatedAt,
    retired_at: key.retiredAt,
    expires_at: key.expiresAt,
  }
}

export function fromSigningKeyRow(row: Selectable<Database['signing_keys']>): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    state: row.state,
    publicJwk: JSON.parse(row.public_jwk) as JWK,
    privateKeySealed: row.private_key_sealed,
    createdAt: Number(row.created_at),
    activatedAt: optionalNumber(row.activated_at),
    retiredAt: optionalNumber(row.retired_at),
    expiresAt: optionalNumber(row.expires_at),
  }
}

export function toJoinTokenRow(token: JoinTokenRecord): Insertable<Database['ca_join_tokens']> {
  return {
    token_hash: token.tokenHash,
    spiffe_id: token.spiffeId,
    dns_names: JSON.stringify(token.dnsNames),
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    used_at: token.usedAt,
  }
}

export function fromJoinTokenRow(row: Selectable<Database['ca_join_tokens']>): JoinTokenRecord {
  return {
    tokenHash: row.token_hash,
    spiffeId: row.spiffe_id,
    dnsNames: JSON.parse(row.dns_names) as string[],
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    usedAt: optionalNumber(row.used_at),
  }
}

export function toCertificateRow(certificate: CertificateRecord): Insertable<Database['ca_certificates']> {
  return {
    serial_number: certificate.serialNumber,
    spiffe_id: certificate.spiffeId,
    kind: certificate.kind,
    not_before: certificate.notBefore,
    not_after: certificate.notAfter,
    issued_at: certificate.issuedAt,
    revoked_at: certificate.revokedAt,
    revocation_reason: certificate.revocationReason,
  }
}

export function fromCertificateRow(row: Selectable<Database['ca_certificates']>): CertificateRecord {
  return {
    serialNumber: row.serial_number,
    spiffeId: row.spiffe_id,
    kind: row.kind,
    notBefore: Number(row.not_before),
    notAfter: Number(row.not_after),
    issuedAt: Number(row.issued_at),
    revokedAt: optionalNumber(row.revoked_at),
    revocationReason: row.revocation_reason,
  }
}

export function toAuditRow(event: AuditEvent): Insertable<Database['audit_events']> {
  return {
    ts: event.ts,
    type: event.type,
    decision: event.decision,
    client_id: event.clientId ?? null,
    subject: event.subject ?? null,
    jti: event.jti ?? null,
    act: event.act === undefined ? null : JSON.stringify(event.act),
    reason: event.reason ?? null,
    details: event.details === undefined ? null : JSON.stringify(event.details),
  }
}

export function fromAuditRow(row: Selectable<Database['audit_events']>): AuditEvent {
  const event: AuditEvent = { ts: Number(row.ts), type: row.type, decision: row.decision }
  if (row.client_id !== null) event.clientId = row.client_id
  if (row.subject !== null) event.subject = row.subject
  if (row.jti !== null) event.jti = row.jti
  if (row.act !== null) event.act = JSON.parse(row.act) as string[]
  if (row.reason !== null) event.reason = row.reason
  if (row.details !== null) event.details = JSON.parse(row.details) as Record<string, unknown>
  return event
}

export function toUserRow(user: UserRecord): Insertable<Database['users']> {
  return {
    id: user.id,
    username: user.username,
    password_hash: user.passwordHash,
    name: user.name,
    email: user.email,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    admin: user.admin ? 1 : 0,
  }
}

export function fromUserRow(row: Selectable<Database['users']>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    name: row.name,
    email: row.email,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    admin: row.admin === 1,
  }
}

export function fromLoginFailureRow(row: Selectable<Database['login_failures']>): LoginFailureRecord {
  return {
    key: row.key,
    failures: row.failures,
    windowStart: Number(row.window_start),
    lastFailureAt: Number(row.last_failure_at),
    lockedUntil: optionalNumber(row.locked_until),
  }
}

export function toInteractionRow(interaction: InteractionRecord): Insertable<Database['interactions']> {
  return {
    id_hash: interaction.idHash,
    csrf_token: interaction.csrfToken,
    client_id: interaction.clientId,
    request: JSON.stringify(interaction.request),
    user_id: interaction.userId,
    auth_time: interaction.authTime,
    created_at: interaction.createdAt,
    expires_at: interaction.expiresAt,
  }
}

export function fromInteractionRow(row: Selectable<Database['interactions']>): InteractionRecord {
  return {
    idHash: row.id_hash,
    csrfToken: row.csrf_token,
    clientId: row.client_id,
    request: JSON.parse(row.request) as Record<string, unknown>,
    userId: row.user_id,
    authTime: optionalNumber(row.auth_time),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  }
}

export function toSessionRow(session: SessionRecord): Insertable<Database['sessions']> {
  return {
    id_hash: session.idHash,
    user_id: session.userId,
    auth_time: session.authTime,
    csrf_token: session.csrfToken,
    created_at: session.createdAt,
    expires_at: session.expiresAt,
  }
}

export function fromSessionRow(row: Selectable<Database['sessions']>): SessionRecord {
  return {
    idHash: row.id_hash,
    userId: row.user_id,
    authTime: Number(row.auth_time),
    csrfToken: row.csrf_token,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  }
}

export function toConsentRow(consent: ConsentRecord): Insertable<Database['consents']> {
  return {
    user_id: consent.userId,
    client_id: consent.clientId,
    scopes: JSON.stringify(consent.scopes),
    updated_at: consent.updatedAt,
  }
}

export function fromConsentRow(row: Selectable<Database['consents']>): ConsentRecord {
  return {
    userId: row.user_id,
    clientId: row.client_id,
    scopes: JSON.parse(row.scopes) as string[],
    updatedAt: Number(row.updated_at),
  }
}

export function toGrantRow(grant: GrantRecord): Insertable<Database['grants']> {
  return {
    id: grant.id,
    client_id: grant.clientId,
    user_id: grant.userId,
    scopes: JSON.stringify(grant.scopes),
    audience: JSON.stringify(grant.audience),
    session_id_hash: grant.sessionIdHash,
    auth_time: grant.authTime,
    created_at: grant.createdAt,
    expires_at: grant.expiresAt,
    revoked_at: grant.revokedAt,
  }
}

export function fromGrantRow(row: Selectable<Database['grants']>): GrantRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    userId: row.user_id,
    scopes: JSON.parse(row.scopes) as string[],
    audience: JSON.parse(row.audience) as string[],
    sessionIdHash: row.session_id_hash,
    authTime: Number(row.auth_time),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    revokedAt: optionalNumber(row.revoked_at),
  }
}

export function toAuthorizationCodeRow(code: AuthorizationCodeRecord): Insertable<Database['authorization_codes']> {
  return {
    code_hash: code.codeHash,
    grant_id: code.grantId,
    client_id: code.clientId,
    redirect_uri: code.redirectUri,
    code_challenge: code.codeChallenge,
    nonce: code.nonce,
    created_at: code.createdAt,
    expires_at: code.expiresAt,
    consumed_at: code.consumedAt,
  }
}

export function fromAuthorizationCodeRow(row: Selectable<Database['authorization_codes']>): AuthorizationCodeRecord {
  return {
    codeHash: row.code_hash,
    grantId: row.grant_id,
    clientId: row.client_id,
    redirectUri: row.redirect_uri,
    codeChallenge: row.code_challenge,
    nonce: row.nonce,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    consumedAt: optionalNumber(row.consumed_at),
  }
}

export function toRefreshTokenRow(token: RefreshTokenRecord): Insertable<Database['refresh_tokens']> {
  return {
    token_hash: token.tokenHash,
    grant_id: token.grantId,
    client_id: token.clientId,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    rotated_at: token.rotatedAt,
  }
}

export function fromRefreshTokenRow(row: Selectable<Database['refresh_tokens']>): RefreshTokenRecord {
  return {
    tokenHash: row.token_hash,
    grantId: row.grant_id,
    clientId: row.client_id,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    rotatedAt: optionalNumber(row.rotated_at),
  }
}
