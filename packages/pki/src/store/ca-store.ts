/** A one-time join token, as kept: only its SHA-256 hash, never the token itself. */
export interface JoinTokenRecord {
  /** base64url SHA-256 of the token. */
  tokenHash: string
  /** The one identity the token may obtain a first certificate for. */
  spiffeId: string
  /** DNS names that certificate may carry. */
  dnsNames: string[]
  createdAt: number
  expiresAt: number
  /** Set when redeemed; a token is redeemed at most once. */
  usedAt: number | null
}

/** How a certificate came to be issued. */
export type IssuanceKind = 'join' | 'renewal' | 'offline'

export interface CertificateRecord {
  /** Lower-case hex, as in the certificate. */
  serialNumber: string
  spiffeId: string
  kind: IssuanceKind
  notBefore: number
  notAfter: number
  issuedAt: number
  revokedAt: number | null
  /** RFC 5280 §5.3.1 reason name, e.g. `keyCompromise`; set with `revokedAt`. */
  revocationReason: string | null
}

/**
 * What the CA keeps between restarts. Times are seconds since the epoch. The authorization
 * server's store implements it on SQLite and PostgreSQL; each backend passes the same conformance
 * suite.
 */
export interface CaStore {
  /** Fails when a token with the same hash exists. */
  createJoinToken(token: JoinTokenRecord): Promise<void>
  /**
   * Marks the token used and returns it, only if it exists, is unused and has not expired at
   * `now`; otherwise `undefined`. Atomic: of two concurrent redemptions, at most one succeeds.
   */
  redeemJoinToken(tokenHash: string, now: number): Promise<JoinTokenRecord | undefined>
  recordCertificate(certificate: CertificateRecord): Promise<void>
  getCertificate(serialNumber: string): Promise<CertificateRecord | undefined>
  /** @returns false when there is no such certificate or it was already revoked. */
  revokeCertificate(serialNumber: string, revokedAt: number, reason: string): Promise<boolean>
  /** Revoked certificates that have not yet expired at `now`: what the CRL lists. */
  listRevokedCertificates(now: number): Promise<CertificateRecord[]>
  /** Drops join tokens and certificate records past their expiry. */
  purgeExpiredCaRecords(now: number): Promise<void>
}
