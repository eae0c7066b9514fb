import { createPublicKey, type KeyObject } from 'node:crypto'
import { PkiError } from '../errors.js'
import type { SpiffeId } from '../spiffe-id.js'
import { x509 } from '../x509.js'

/** What a CSR must match: the identity it was authorised for and the DNS names it may carry. */
export interface CsrRequirements {
  identity: SpiffeId
  /** DNS SANs the requester may have; any other is refused. Default none. */
  allowedDnsNames?: readonly string[]
}

/** A CSR that passed every check: the key to certify and the names to put beside the identity. */
export interface CheckedCsr {
  publicKey: x509.PublicKey
  dnsNames: string[]
}

type Check = (csr: x509.Pkcs10CertificateRequest, requirements: CsrRequirements) => void | Promise<void>

const SAN = '2.5.29.17'
const BASIC_CONSTRAINTS = '2.5.29.19'
const KEY_USAGE = '2.5.29.15'
const MAX_CSR_BYTES = 16 * 1024

/** Every check a CSR passes, in order; the first that fails names the problem. The key comes first: a curve WebCrypto lacks cannot have its signature checked. */
const checks: readonly Check[] = [
  function keyIsStrong(csr) {
    const reason = weakness(publicKeyOf(csr))
    if (reason !== undefined) throw new PkiError('ERR_CSR_KEY', `the CSR key is refused: ${reason}`)
  },
  async function signatureHolds(csr) {
    if (!(await csr.verify().catch(() => false))) throw new PkiError('ERR_CSR_SIGNATURE', 'the CSR signature does not verify with its own key')
  },
  function asksForNoAuthority(csr) {
    const constraints = csr.getExtensions(BASIC_CONSTRAINTS)
    if (constraints.some((extension) => !(extension instanceof x509.BasicConstraintsExtension) || extension.ca)) {
      throw new PkiError('ERR_CSR_CA', 'the CSR asks for a CA certificate (basicConstraints CA:TRUE); workloads get leaf certificates only')
    }
    const usages = csr.getExtensions(KEY_USAGE)
    const signing = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
    if (usages.some((extension) => !(extension instanceof x509.KeyUsagesExtension) || (extension.usages & signing) !== 0)) {
      throw new PkiError('ERR_CSR_CA', 'the CSR asks for certificate or CRL signing; workloads get leaf certificates only')
    }
  },
  function namesOnlyItsIdentity(csr, { identity, allowedDnsNames = [] }) {
    const extensions = csr.getExtensions(SAN)
    if (extensions.length !== 1 || !(extensions[0] instanceof x509.SubjectAlternativeNameExtension)) {
      throw new PkiError('ERR_CSR_IDENTITY', 'the CSR must carry exactly one subjectAltName extension with its SPIFFE ID')
    }
    const names = extensions[0].names.items
    const uris = names.filter((name) => name.type === 'url').map((name) => name.value)
    if (uris.length !== 1) throw new PkiError('ERR_CSR_IDENTITY', `the CSR must name exactly one URI (its SPIFFE ID), not ${uris.length}`)
    if (uris[0] !== identity.uri) throw new PkiError('ERR_CSR_IDENTITY', `the CSR asks for ${uris[0]!}, but this request is for ${identity.uri}`)
    for (const name of names) {
      if (name.type === 'url') continue
      if (name.type !== 'dns') throw new PkiError('ERR_CSR_SAN', `the CSR asks for a ${name.type} name; only a SPIFFE ID and allowed DNS names are issued`)
      if (!allowedDnsNames.includes(name.value)) throw new PkiError('ERR_CSR_SAN', `the CSR asks for DNS name ${name.value}, which this identity may not have`)
    }
  },
]

/**
 * Parses a PEM or DER PKCS#10 request and runs every check on it: a strong key (P-256, P-384,
 * Ed25519 or RSA of 2048 bits or more), its own signature, no CA or signing usage requested,
 * exactly one URI SAN equal to the authorised identity, and only allowed DNS names.
 *
 * @example
 * const { publicKey, dnsNames } = await checkCsr(pem, { identity: spiffeId('spiffe://example.org/ns/shop/sa/orders') })
 */
export async function checkCsr(csr: string | Uint8Array, requirements: CsrRequirements): Promise<CheckedCsr> {
  const request = parseCsr(csr)
  for (const check of checks) await check(request, requirements)
  const names = (request.getExtension(SAN) as x509.SubjectAlternativeNameExtension).names.items
  return { publicKey: request.publicKey, dnsNames: names.filter((name) => name.type === 'dns').map((name) => name.value) }
}

function parseCsr(csr: string | Uint8Array): x509.Pkcs10CertificateRequest {
  if ((typeof csr === 'string' ? Buffer.byteLength(csr) : csr.byteLength) > MAX_CSR_BYTES) {
    throw new PkiError('ERR_CSR_MALFORMED', 'the CSR is larger than 16 KiB')
  }
  try {
    return new x509.Pkcs10CertificateRequest(typeof csr === 'string' ? csr : Buffer.from(csr))
  } catch (err) {
    throw new PkiError('ERR_CSR_MALFORMED', 'not a PKCS#10 certificate request (PEM or DER)', { cause: err })
  }
}

function publicKeyOf(csr: x509.Pkcs10CertificateRequest): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' })
  } catch (err) {
    throw new PkiError('ERR_CSR_KEY', 'the CSR key cannot be read', { cause: err })
  }
}

function weakness(key: KeyObject): string | undefined {
  const { asymmetricKeyType: type, asymmetricKeyDetails: details = {} } = key
  if (type === 'ed25519') return undefined
  if (type === 'ec') {
    return details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1' ? undefined : `curve ${details.namedCurve ?? 'unknown'} (P-256 or P-384 only)`
  }
  if (type === 'rsa') return (details.modulusLength ?? 0) >= 2048 ? undefined : `RSA of ${details.modulusLength ?? 0} bits (2048 or more)`
  return `key type ${type ?? 'unknown'}`
}
