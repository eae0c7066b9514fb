import type { CertificateAuthority, IssuedCertificate } from '../ca/certificate-authority.js'
import { crlPem, revocationReasons } from '../ca/certificate-authority.js'
import { PkiError } from '../errors.js'
import { checkCsr } from '../issuance/check-csr.js'
import { csrNames } from '../issuance/csr-names.js'
import { joinTokenHash, newJoinToken } from '../issuance/join-token.js'
import { parseSpiffeId, spiffeId } from '../spiffe-id.js'
import type { CaStore, IssuanceKind } from '../store/ca-store.js'

/** An audit record of the CA, in the authorization server's audit event shape. */
export interface CaAuditEvent {
  /** Milliseconds since the epoch. */
  ts: number
  type: 'ca.join_token' | 'ca.issue' | 'ca.revoke'
  decision: 'allow' | 'deny'
  /** The SPIFFE ID concerned. */
  subject?: string | undefined
  reason?: string | undefined
  details?: Record<string, unknown> | undefined
}

export interface CaServiceOptions {
  ca: CertificateAuthority
  store: CaStore
  /** Every join token made, certificate issued or refused, and revocation. */
  audit?: { record(event: CaAuditEvent): void }
  /** Default 3,600; at most 7 days. */
  joinTokenTtlSec?: number
  /** How often the CRL is rebuilt from the store, to take in other instances' revocations; default 10,000. */
  crlRefreshMs?: number
  now?: () => number
}

/** The current CRLs and what they list. */
export interface PublishedCrl {
  /** The intermediate's CRL then the root's, PEM, as one text: what `GET /v1/crl` serves. */
  pem: string
  /** The same CRLs one per entry, as Node's `tls` `crl` option takes them (it reads one CRL per entry). */
  pems: readonly string[]
  /** Serial numbers listed, sorted. */
  serialNumbers: readonly string[]
  thisUpdate: Date
}

/** A workload's current certificate, as the TLS handshake established it. */
export interface PeerCertificate {
  serialNumber: string
  spiffeId: string
}

const MAX_JOIN_TOKEN_TTL_SEC = 7 * 86_400

/**
 * The CA's operations with their rules and audit trail: one-time join tokens bound to one
 * identity, first certificates against a join token, renewals for the same identity only,
 * offline issuance, revocation and the CRL. Transport-free: `ca-server.ts` serves it over HTTPS,
 * the CLI calls it directly.
 *
 * @example
 * const service = new CaService({ ca, store, audit })
 * const { token } = await service.createJoinToken({ spiffeId: 'spiffe://example.org/ns/shop/sa/orders' })
 */
export class CaService {
  readonly ca: CertificateAuthority
  readonly #store: CaStore
  readonly #audit: CaServiceOptions['audit']
  readonly #joinTokenTtlSec: number
  readonly #crlRefreshMs: number
  readonly #now: () => number
  readonly #crlListeners = new Set<(crl: PublishedCrl) => void>()
  #crl: Promise<PublishedCrl> | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(options: CaServiceOptions) {
    this.ca = options.ca
    this.#store = options.store
    this.#audit = options.audit
    this.#now = options.now ?? Date.now
    this.#joinTokenTtlSec = options.joinTokenTtlSec ?? 3600
    if (!Number.isInteger(this.#joinTokenTtlSec) || this.#joinTokenTtlSec < 1 || this.#joinTokenTtlSec > MAX_JOIN_TOKEN_TTL_SEC) {
      throw new TypeError(`joinTokenTtlSec must be an integer from 1 to ${MAX_JOIN_TOKEN_TTL_SEC}`)
    }
    this.#crlRefreshMs = options.crlRefreshMs ?? 10_000
  }

  /** A one-time token that obtains one first certificate for `spiffeId`. Only its hash is stored. */
  async createJoinToken(request: { spiffeId: string; dnsNames?: readonly string[]; ttlSec?: number }): Promise<{ token: string; expiresAt: number }> {
    const identity = spiffeId(request.spiffeId)
    if (identity.trustDomain !== this.ca.trustDomain || identity.path === '') {
      throw new PkiError('ERR_CSR_IDENTITY', `${identity.uri} is not a workload of trust domain ${this.ca.trustDomain}`)
    }
    const ttlSec = request.ttlSec ?? this.#joinTokenTtlSec
    if (!Number.isInteger(ttlSec) || ttlSec < 1 || ttlSec > MAX_JOIN_TOKEN_TTL_SEC) throw new PkiError('ERR_TTL', `a join token lives from 1 to ${MAX_JOIN_TOKEN_TTL_SEC} seconds`)
    const token = newJoinToken()
    const now = this.#seconds()
    const expiresAt = now + ttlSec
    await this.#store.createJoinToken({ tokenHash: joinTokenHash(token), spiffeId: identity.uri, dnsNames: [...(request.dnsNames ?? [])], createdAt: now, expiresAt, usedAt: null })
    this.#record({ type: 'ca.join_token', decision: 'allow', subject: identity.uri, details: { expiresAt } })
    return { token, expiresAt }
  }

  /**
   * A first certificate against a join token. The CSR's own checks (key, signature, no CA) and
   * the lifetime asked for come first, so a broken request does not burn the token; then the token is redeemed, once, and must
   * be for the identity the CSR names.
   */
  async join(request: { token: string; csr: string | Uint8Array; ttlSec?: number }): Promise<IssuedCertificate> {
    let subject: string | undefined
    return this.#audited('join', () => subject, async () => {
      const names = csrNames(request.csr)
      subject = names.uris[0]
      if (names.uris.length !== 1) throw new PkiError('ERR_CSR_IDENTITY', `the CSR must name exactly one URI (its SPIFFE ID), not ${names.uris.length}`)
      const identity = parseSpiffeId(names.uris[0]!)
      if (typeof identity === 'string') throw new PkiError('ERR_CSR_IDENTITY', `the CSR does not name a SPIFFE ID: ${identity}`)
      await checkCsr(request.csr, { identity, allowedDnsNames: names.dnsNames })
      this.ca.lifetime(request.ttlSec)
      const token = typeof request.token === 'string' ? await this.#store.redeemJoinToken(joinTokenHash(request.token), this.#seconds()) : undefined
      if (token === undefined) throw new PkiError('ERR_JOIN_TOKEN', 'the join token is unknown, used or expired')
      if (token.spiffeId !== subject) throw new PkiError('ERR_CSR_IDENTITY', `the join token is for ${token.spiffeId}, not ${subject ?? ''}`)
      return this.ca.issue({ csr: request.csr, identity: token.spiffeId, allowedDnsNames: token.dnsNames, ...ttl(request.ttlSec) })
    })
  }

  /**
   * A new certificate for a workload that proved its current one in the TLS handshake (chain
   * and expiry checked there). The current one must be ours and not revoked, and the new one is
   * for the same identity, with the DNS names the current one has.
   */
  async renew(request: { peer: PeerCertificate | undefined; csr: string | Uint8Array; ttlSec?: number; dnsNames?: readonly string[] }): Promise<IssuedCertificate> {
    const { peer } = request
    return this.#audited('renewal', () => peer?.spiffeId, async () => {
      if (peer === undefined) throw new PkiError('ERR_PEER_CERTIFICATE', 'renewal needs the current certificate, presented in the TLS handshake')
      const current = await this.#store.getCertificate(peer.serialNumber.toLowerCase())
      if (current === undefined) throw new PkiError('ERR_PEER_CERTIFICATE', 'the presented certificate was not issued by this CA')
      if (current.revokedAt !== null) throw new PkiError('ERR_PEER_CERTIFICATE', 'the presented certificate has been revoked')
      if (current.spiffeId !== peer.spiffeId) throw new PkiError('ERR_PEER_CERTIFICATE', 'the presented certificate does not match the CA records')
      return this.ca.issue({ csr: request.csr, identity: peer.spiffeId, allowedDnsNames: request.dnsNames ?? [], ...ttl(request.ttlSec) })
    })
  }

  /** Issuance by an operator with access to the CA (`meshguard ca issue`), recorded and audited like any other. */
  async issueOffline(request: { csr: string | Uint8Array; identity: string; dnsNames?: readonly string[]; ttlSec?: number }): Promise<IssuedCertificate> {
    return this.#audited('offline', () => request.identity, () =>
      this.ca.issue({ csr: request.csr, identity: request.identity, allowedDnsNames: request.dnsNames ?? [], ...ttl(request.ttlSec) }),
    )
  }

  /** Revokes a certificate; the CRL lists it from now on. `ERR_NOT_FOUND` for a serial never issued or already revoked. */
  async revoke(serialNumber: string, reason = 'unspecified'): Promise<void> {
    if (!revocationReasons.includes(reason)) throw new TypeError(`reason must be one of ${revocationReasons.join(', ')}`)
    const serial = serialNumber.toLowerCase().replace(/:/g, '')
    const record = await this.#store.getCertificate(serial)
    if (record === undefined || !(await this.#store.revokeCertificate(serial, this.#seconds(), reason))) {
      this.#record({ type: 'ca.revoke', decision: 'deny', subject: record?.spiffeId, reason: 'ERR_NOT_FOUND', details: { serialNumber: serial } })
      throw new PkiError('ERR_NOT_FOUND', `no unrevoked certificate with serial number ${serial}`)
    }
    this.#record({ type: 'ca.revoke', decision: 'allow', subject: record.spiffeId, reason, details: { serialNumber: serial } })
    await this.refreshCrl()
  }

  /** The current CRL, built on first use and rebuilt on every change. */
  crl(): Promise<PublishedCrl> {
    this.#crl ??= this.#buildCrl()
    return this.#crl
  }

  /** Rebuilds the CRL from the store; listeners hear of it when the serials it lists changed. */
  async refreshCrl(): Promise<PublishedCrl> {
    const previous = await this.#crl?.catch(() => undefined)
    const next = this.#buildCrl()
    this.#crl = next
    const crl = await next
    if (previous?.serialNumbers.join() !== crl.serialNumbers.join()) for (const listener of this.#crlListeners) listener(crl)
    return crl
  }

  /** Calls `listener` with each CRL whose list differs from the last one. Returns the unsubscribe function. */
  onCrl(listener: (crl: PublishedCrl) => void): () => void {
    this.#crlListeners.add(listener)
    return () => {
      this.#crlListeners.delete(listener)
    }
  }

  /** Rebuilds the CRL from the store every `crlRefreshMs`, taking in revocations made elsewhere. */
  start(): void {
    this.#timer ??= setInterval(() => {
      this.refreshCrl().catch(() => undefined)
    }, this.#crlRefreshMs)
    this.#timer.unref()
  }

  close(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  async #buildCrl(): Promise<PublishedCrl> {
    const revoked = await this.#store.listRevokedCertificates(this.#seconds())
    const crl = await this.ca.createCrl(revoked)
    const pems = [crlPem(crl), this.ca.rootCrlPem]
    return { pem: pems.join(''), pems, serialNumbers: revoked.map((record) => record.serialNumber).sort(), thisUpdate: crl.thisUpdate }
  }

  async #audited(kind: IssuanceKind, subject: () => string | undefined, issue: () => Promise<IssuedCertificate>): Promise<IssuedCertificate> {
    let issued: IssuedCertificate
    try {
      issued = await issue()
    } catch (err) {
      const reason = err instanceof PkiError ? err.code : 'error'
      this.#record({ type: 'ca.issue', decision: 'deny', subject: subject(), reason, details: { kind, message: err instanceof Error ? err.message : String(err) } })
      throw err
    }
    const seconds = (date: Date) => Math.floor(date.getTime() / 1000)
    await this.#store.recordCertificate({
      serialNumber: issued.serialNumber,
      spiffeId: issued.spiffeId.uri,
      kind,
      notBefore: seconds(issued.notBefore),
      notAfter: seconds(issued.notAfter),
      issuedAt: this.#seconds(),
      revokedAt: null,
      revocationReason: null,
    })
    this.#record({ type: 'ca.issue', decision: 'allow', subject: issued.spiffeId.uri, details: { kind, serialNumber: issued.serialNumber, notAfter: seconds(issued.notAfter) } })
    return issued
  }

  #record(event: Omit<CaAuditEvent, 'ts'>): void {
    this.#audit?.record({ ts: this.#now(), ...event })
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000)
  }
}

function ttl(ttlSec: number | undefined): { ttlSec?: number } {
  return ttlSec === undefined ? {} : { ttlSec }
}
