import type { webcrypto } from 'node:crypto'
import { AsnConvert } from '@peculiar/asn1-schema'
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509'
import { PkiError } from '../errors.js'
import { checkCsr } from '../issuance/check-csr.js'
import type { CertificateRecord } from '../store/ca-store.js'
import { openPrivateKey } from '../keys.js'
import { parseSpiffeId, spiffeId, type SpiffeId } from '../spiffe-id.js'
import { ECDSA_P256, x509 } from '../x509.js'
import { caFiles } from './ca-files.js'
import { serialNumber } from './serial-number.js'

/** How long workload certificates live. */
export interface CaPolicy {
  /** When a request names none; default 86,400 (24 h). */
  defaultTtlSec: number
  /** Longer requests are refused (`ERR_TTL`); default 259,200 (72 h), at most 30 days. */
  maxTtlSec: number
}

/** What a workload asks for: a CSR for the identity it has been authorised to hold. */
export interface IssueRequest {
  /** PEM or DER PKCS#10. */
  csr: string | Uint8Array
  /** The SPIFFE ID the caller proved (join token, current certificate, or an operator offline). */
  identity: string
  /** DNS names the identity may add to its certificate. */
  allowedDnsNames?: readonly string[]
  ttlSec?: number
}

export interface IssuedCertificate {
  certificate: x509.X509Certificate
  /** The leaf alone, PEM. */
  certificatePem: string
  /** The leaf then the intermediate, PEM: what a TLS server or client presents. */
  chainPem: string
  serialNumber: string
  spiffeId: SpiffeId
  notBefore: Date
  notAfter: Date
}

const MIN_TTL_SEC = 2
const MAX_TTL_CAP_SEC = 30 * 86_400
/** Clocks disagree by this much; certificates start this early. */
const BACKDATE_MS = 60_000

/**
 * A trust domain's CA: a root that certifies an intermediate, which signs short-lived workload
 * certificates (X509-SVIDs) with exactly one SPIFFE ID.
 *
 * @example
 * const ca = await CertificateAuthority.load({ dir: '.meshguard/ca', passphrase })
 * const { chainPem } = await ca.issue({ csr, identity: 'spiffe://example.org/ns/shop/sa/orders' })
 */
export class CertificateAuthority {
  readonly trustDomain: string
  readonly root: x509.X509Certificate
  readonly intermediate: x509.X509Certificate
  readonly policy: Readonly<CaPolicy>
  /** The root's CRL, PEM: published beside the intermediate's, see `caFileNames.rootCrl`. */
  readonly rootCrlPem: string
  readonly #signingKey: webcrypto.CryptoKey
  readonly #now: () => number

  private constructor(
    root: x509.X509Certificate,
    intermediate: x509.X509Certificate,
    rootCrlPem: string,
    signingKey: webcrypto.CryptoKey,
    policy: CaPolicy,
    now: () => number,
  ) {
    this.root = root
    this.intermediate = intermediate
    this.rootCrlPem = rootCrlPem
    this.#signingKey = signingKey
    this.policy = Object.freeze(policy)
    this.#now = now
    const uri = root.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.find((name) => name.type === 'url')?.value
    this.trustDomain = spiffeId(uri ?? '').trustDomain
  }

  /** Opens the CA in `dir`; `ERR_CA_MISSING` if there is none, `ERR_CA_KEY` if the passphrase is wrong. */
  static async load(options: { dir: string; passphrase: string; policy?: Partial<CaPolicy>; now?: () => number }): Promise<CertificateAuthority> {
    const files = caFiles(options.dir)
    const root = new x509.X509Certificate(files.read('root'))
    const intermediate = new x509.X509Certificate(files.read('intermediate'))
    const signingKey = await openPrivateKey(files.read('intermediateKey'), options.passphrase, 'intermediate CA')
    return new CertificateAuthority(root, intermediate, files.read('rootCrl'), signingKey, checkPolicy(options.policy ?? {}), options.now ?? Date.now)
  }

  /** The PEM trust bundle workloads verify peers against. */
  get trustBundlePem(): string {
    return this.root.toString('pem')
  }

  /**
   * Checks the request ({@link checkCsr}, the identity's trust domain, the lifetime) and signs a
   * leaf for it: CA:FALSE, digitalSignature, serverAuth and clientAuth, the SPIFFE ID as the one
   * URI SAN. Its lifetime never outlasts the intermediate's.
   */
  /** The lifetime a request gets: its own, or the default; `ERR_TTL` outside the policy's bounds. */
  lifetime(ttlSec: number | undefined): number {
    const lifetime = ttlSec ?? this.policy.defaultTtlSec
    if (!Number.isInteger(lifetime) || lifetime < MIN_TTL_SEC || lifetime > this.policy.maxTtlSec) {
      throw new PkiError('ERR_TTL', `a certificate lives from ${MIN_TTL_SEC} to ${this.policy.maxTtlSec} seconds, not ${String(lifetime)}`)
    }
    return lifetime
  }

  async issue(request: IssueRequest): Promise<IssuedCertificate> {
    const identity = parseSpiffeId(request.identity)
    if (typeof identity === 'string') throw new PkiError('ERR_CSR_IDENTITY', `${JSON.stringify(request.identity)} is not a SPIFFE ID: ${identity}`)
    if (identity.trustDomain !== this.trustDomain || identity.path === '') {
      throw new PkiError('ERR_CSR_IDENTITY', `${identity.uri} is not a workload of trust domain ${this.trustDomain}`)
    }
    const ttlSec = this.lifetime(request.ttlSec)
    const { publicKey, dnsNames } = await checkCsr(request.csr, { identity, allowedDnsNames: request.allowedDnsNames ?? [] })
    const now = this.#now()
    const notBefore = new Date(now - BACKDATE_MS)
    const notAfter = new Date(Math.min(now + ttlSec * 1000, this.intermediate.notAfter.getTime()))
    const serial = serialNumber()
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: `O=${this.trustDomain}`,
      issuer: this.intermediate.subject,
      notBefore,
      notAfter,
      publicKey,
      signingKey: this.#signingKey,
      signingAlgorithm: ECDSA_P256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity.uri }, ...dnsNames.map((value) => ({ type: 'dns' as const, value }))], true),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.intermediate),
      ],
    })
    const certificatePem = certificate.toString('pem')
    return {
      certificate,
      certificatePem,
      chainPem: `${certificatePem}\n${this.intermediate.toString('pem')}\n`,
      serialNumber: serial,
      spiffeId: identity,
      notBefore,
      notAfter,
    }
  }

  /**
   * A CRL (RFC 5280 §5) from the intermediate listing `revoked`, valid for `validitySec`
   * (default 7 days; services fetch a fresh one long before). The CRL number is the issue time
   * in seconds, so it grows across restarts and instances.
   */
  async createCrl(revoked: readonly CertificateRecord[], options: { validitySec?: number } = {}): Promise<x509.X509Crl> {
    const now = this.#now()
    const number = Math.floor(now / 1000)
    return x509.X509CrlGenerator.create({
      issuer: this.intermediate.subject,
      thisUpdate: new Date(now - BACKDATE_MS),
      nextUpdate: new Date(now + (options.validitySec ?? 7 * 86_400) * 1000),
      signingKey: this.#signingKey,
      signingAlgorithm: ECDSA_P256,
      entries: revoked.map((record) => ({
        serialNumber: record.serialNumber,
        revocationDate: new Date((record.revokedAt ?? number) * 1000),
        reason: CRL_REASONS[record.revocationReason ?? 'unspecified'] ?? x509.X509CrlReason.unspecified,
      })),
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(this.intermediate),
        crlNumber(number),
      ],
    })
  }
}

const CRL_REASONS: Readonly<Record<string, x509.X509CrlReason>> = {
  unspecified: x509.X509CrlReason.unspecified,
  keyCompromise: x509.X509CrlReason.keyCompromise,
  affiliationChanged: x509.X509CrlReason.affiliationChanged,
  superseded: x509.X509CrlReason.superseded,
  cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
}

/** RFC 5280 §5.2.3: every CRL carries a number that grows with each one issued. */
export function crlNumber(value: number): x509.Extension {
  return new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(value)))
}

/** A CRL as PEM labelled `X509 CRL` (RFC 7468 §5), which OpenSSL, and so Node's TLS, requires. */
export function crlPem(crl: x509.X509Crl): string {
  return `${x509.PemConverter.encode([{ type: 'X509 CRL', rawData: crl.rawData }]).trimEnd()}\n`
}

/** The RFC 5280 §5.3.1 reasons a workload certificate may be revoked for. */
export const revocationReasons = Object.keys(CRL_REASONS)

function checkPolicy(policy: Partial<CaPolicy>): CaPolicy {
  const maxTtlSec = policy.maxTtlSec ?? 259_200
  const defaultTtlSec = policy.defaultTtlSec ?? Math.min(86_400, maxTtlSec)
  if (!Number.isInteger(maxTtlSec) || maxTtlSec < MIN_TTL_SEC || maxTtlSec > MAX_TTL_CAP_SEC) {
    throw new TypeError(`policy.maxTtlSec must be an integer from ${MIN_TTL_SEC} to ${MAX_TTL_CAP_SEC}`)
  }
  if (!Number.isInteger(defaultTtlSec) || defaultTtlSec < MIN_TTL_SEC || defaultTtlSec > maxTtlSec) {
    throw new TypeError('policy.defaultTtlSec must be an integer no greater than policy.maxTtlSec')
  }
  return { defaultTtlSec, maxTtlSec }
}
