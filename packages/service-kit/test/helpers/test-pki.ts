import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { caFileNames, CertificateAuthority, initCa, newWorkloadKey } from '@meshguard/pki'
import type { WorkloadCredentials } from '../../src/tls/index.js'
import { OpenSsl, P256 } from '../../../pki/test/openssl.js'

export const passphrase = 'correct horse battery staple'

/** A certificate and its key, as a TLS client or server is given them. */
export interface KeyAndChain {
  certificateChainPem: string
  privateKeyPem: string
}

/** The X509-SVID extensions openssl gives a leaf unless a test says otherwise; `null` leaves one out. */
export type LeafExtensions = Partial<Record<'basicConstraints' | 'keyUsage' | 'extendedKeyUsage' | 'subjectAltName', string | null>>

/**
 * A trust domain's CA made in-process, with openssl beside it: leaves from our CA for CSRs,
 * leaves openssl signs with our intermediate's key (any extensions a test wants), self-signed
 * certificates, and CRLs.
 */
export class TestPki {
  readonly openssl = new OpenSsl()
  readonly #dirs: string[]
  #serial = 0

  private constructor(
    readonly ca: CertificateAuthority,
    readonly dir: string,
  ) {
    this.#dirs = [dir]
    this.openssl.write('intermediate.pem', ca.intermediate.toString('pem'))
    this.openssl.write('bundle.pem', ca.trustBundlePem)
    this.openssl.run(['pkey', '-in', join(dir, caFileNames.intermediateKey), '-passin', `pass:${passphrase}`, '-out', 'intermediate.key'])
    this.openssl.write('root.pem', ca.root.toString('pem'))
    this.openssl.run(['pkey', '-in', join(dir, caFileNames.rootKey), '-passin', `pass:${passphrase}`, '-out', 'root.key'])
    for (const issuer of ['intermediate', 'root']) {
      this.openssl.write(`${issuer}.index`, '')
      this.openssl.write(`${issuer}.cnf`, `[ca]\ndefault_ca = ca_default\n[ca_default]\ndatabase = ${issuer}.index\ndefault_md = sha256\ndefault_crl_days = 1\n`)
    }
  }

  static async create(trustDomain = 'example.org'): Promise<TestPki> {
    const dir = mkdtempSync(join(tmpdir(), 'meshguard-mtls-ca-'))
    return new TestPki(await initCa({ dir, trustDomain, passphrase }), dir)
  }

  get trustBundlePem(): string {
    return this.ca.trustBundlePem
  }

  /** The same CA with its clock moved by `offsetMs`, for certificates that are expired or not valid yet. */
  async shiftedCa(offsetMs: number): Promise<CertificateAuthority> {
    return CertificateAuthority.load({ dir: this.dir, passphrase, now: () => Date.now() + offsetMs })
  }

  /** A key and a certificate from our CA for `spiffeId`, the way a workload gets them. */
  async issue(spiffeId: string, options: { ttlSec?: number; ca?: CertificateAuthority } = {}): Promise<KeyAndChain> {
    const { keyPem, csrPem } = await newWorkloadKey(spiffeId)
    const issued = await (options.ca ?? this.ca).issue({ csr: csrPem, identity: spiffeId, ttlSec: options.ttlSec ?? 3600 })
    return { certificateChainPem: issued.chainPem, privateKeyPem: keyPem }
  }

  /** {@link issue}, with this CA's trust bundle: all a workload holds. */
  async credentials(spiffeId: string, options: { ttlSec?: number } = {}): Promise<WorkloadCredentials> {
    return { ...(await this.issue(spiffeId, options)), trustBundlePem: this.trustBundlePem }
  }

  /** A leaf that openssl signs with our intermediate's key, with the extensions given (an X509-SVID's by default). */
  opensslLeaf(spiffeId: string, extensions: LeafExtensions = {}): KeyAndChain {
    const name = `leaf-${++this.#serial}`
    const all: LeafExtensions = {
      basicConstraints: 'critical,CA:FALSE',
      keyUsage: 'critical,digitalSignature',
      extendedKeyUsage: 'serverAuth,clientAuth',
      subjectAltName: `URI:${spiffeId}`,
      ...extensions,
    }
    this.openssl.write(`${name}.ext`, Object.entries(all).filter(([, value]) => value !== null).map(([key, value]) => `${key}=${value!}\n`).join(''))
    this.openssl.csr(name, P256)
    this.openssl.run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'intermediate.pem', '-CAkey', 'intermediate.key', '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', '1', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`])
    return { certificateChainPem: `${this.openssl.read(`${name}.pem`)}${this.ca.intermediate.toString('pem')}\n`, privateKeyPem: this.openssl.read(`${name}.key`) }
  }

  /** A self-signed certificate made by `openssl req -x509`, naming `spiffeId`. */
  selfSigned(spiffeId: string): KeyAndChain {
    const name = `self-${++this.#serial}`
    this.openssl.run(['req', '-x509', ...P256, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', '/O=workload', '-days', '1', '-addext', `subjectAltName=URI:${spiffeId}`, '-addext', 'extendedKeyUsage=clientAuth,serverAuth'])
    return { certificateChainPem: this.openssl.read(`${name}.pem`), privateKeyPem: this.openssl.read(`${name}.key`) }
  }

  /**
   * Revokes the leaf of `chainPem` in openssl's database for our intermediate and returns the
   * CRLs a service needs: the intermediate's, and the root's (empty) for the intermediate, as
   * Node checks every certificate of the chain once it has a CRL.
   */
  revoke(chainPem: string): string {
    const name = `revoked-${++this.#serial}`
    this.openssl.write(`${name}.pem`, chainPem.slice(0, chainPem.indexOf('-----END CERTIFICATE-----') + '-----END CERTIFICATE-----'.length) + '\n')
    this.openssl.run(['ca', '-config', 'intermediate.cnf', '-keyfile', 'intermediate.key', '-cert', 'intermediate.pem', '-revoke', `${name}.pem`])
    return ['intermediate', 'root']
      .map((issuer) => {
        this.openssl.run(['ca', '-config', `${issuer}.cnf`, '-keyfile', `${issuer}.key`, '-cert', `${issuer}.pem`, '-gencrl', '-out', `${name}.${issuer}.crl`])
        return this.openssl.read(`${name}.${issuer}.crl`)
      })
      .join('')
  }

  /** A second, unrelated CA (same trust domain name), cleaned up with this one. */
  async otherCa(trustDomain = 'example.org'): Promise<CertificateAuthority> {
    const dir = mkdtempSync(join(tmpdir(), 'meshguard-mtls-other-ca-'))
    this.#dirs.push(dir)
    return initCa({ dir, trustDomain, passphrase })
  }

  cleanup(): void {
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true })
    this.openssl.cleanup()
  }
}
