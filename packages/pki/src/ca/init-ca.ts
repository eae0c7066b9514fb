import { PkiError } from '../errors.js'
import { generateKeyPair, sealPrivateKey } from '../keys.js'
import { isTrustDomain } from '../spiffe-id.js'
import { ECDSA_P256, x509 } from '../x509.js'
import { caFiles } from './ca-files.js'
import { CertificateAuthority, crlNumber, crlPem, type CaPolicy } from './certificate-authority.js'
import { serialNumber } from './serial-number.js'

export interface InitCaOptions {
  /** Where the CA's certificates and sealed keys are written. */
  dir: string
  /** The SPIFFE trust domain, e.g. `example.org`. */
  trustDomain: string
  /** Seals the private keys at rest. */
  passphrase: string
  /** Default ten years. */
  rootTtlSec?: number
  /** Default one year. */
  intermediateTtlSec?: number
  policy?: Partial<CaPolicy>
  now?: () => number
}

const YEAR = 365 * 86_400

/**
 * Creates a root and an intermediate CA (ECDSA P-256) for a trust domain and writes them, keys
 * sealed, to `dir`. Refuses (`ERR_CA_EXISTS`) when `dir` already holds a CA.
 *
 * @example
 * const ca = await initCa({ dir: '.meshguard/ca', trustDomain: 'example.org', passphrase })
 */
export async function initCa(options: InitCaOptions): Promise<CertificateAuthority> {
  const { dir, trustDomain, passphrase } = options
  if (!isTrustDomain(trustDomain)) throw new TypeError(`"${trustDomain}" is not a trust domain: lowercase letters, digits, ".", "-" and "_"`)
  if (typeof passphrase !== 'string' || passphrase.length < 16) throw new TypeError('passphrase must be a string of at least 16 characters')
  const files = caFiles(dir)
  if (files.exists()) throw new PkiError('ERR_CA_EXISTS', `${dir} already holds a CA`)
  const now = options.now?.() ?? Date.now()
  const notBefore = new Date(now - 60_000)
  const trustDomainSan = () => new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }])

  const rootKeys = await generateKeyPair()
  const rootName = `CN=Meshguard Root CA, O=${trustDomain}`
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: rootName,
    notBefore,
    notAfter: new Date(now + (options.rootTtlSec ?? 10 * YEAR) * 1000),
    keys: rootKeys,
    signingAlgorithm: ECDSA_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
      trustDomainSan(),
    ],
  })

  const intermediateKeys = await generateKeyPair()
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=Meshguard Intermediate CA, O=${trustDomain}`,
    issuer: root.subject,
    notBefore,
    notAfter: new Date(now + (options.intermediateTtlSec ?? YEAR) * 1000),
    publicKey: intermediateKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ECDSA_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      trustDomainSan(),
    ],
  })

  const rootCrl = await x509.X509CrlGenerator.create({
    issuer: root.subject,
    thisUpdate: notBefore,
    nextUpdate: root.notAfter,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ECDSA_P256,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey), crlNumber(Math.floor(now / 1000))],
  })

  files.writeAll({
    root: root.toString('pem'),
    rootKey: await sealPrivateKey(rootKeys.privateKey, passphrase),
    intermediate: intermediate.toString('pem'),
    intermediateKey: await sealPrivateKey(intermediateKeys.privateKey, passphrase),
    bundle: root.toString('pem'),
    rootCrl: crlPem(rootCrl),
  })
  return CertificateAuthority.load({ dir, passphrase, ...(options.policy && { policy: options.policy }), ...(options.now && { now: options.now }) })
}
