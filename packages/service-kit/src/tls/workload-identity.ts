import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createSecureContext } from 'node:tls'
import { parseSpiffeId, type SpiffeId, subjectAltNames } from '@meshguard/pki'
import { secureContextOptions } from './secure-context-options.js'

/** What a workload presents and trusts, all PEM. */
export interface WorkloadCredentials {
  /** The workload's certificate (an X509-SVID) first, then the intermediates up to the trust bundle. */
  readonly certificateChainPem: string
  /** The private key of the first certificate of the chain. */
  readonly privateKeyPem: string
  /** The CA certificates peers' chains must lead to. */
  readonly trustBundlePem: string
  /**
   * CRLs, one after the other; with them, a revoked peer is refused at its next handshake. Node
   * then checks every certificate of a peer's chain, so there must be one from each CA: the
   * intermediate's for workloads and the root's for the intermediate.
   */
  readonly crlPem?: string | undefined
}

/** Where {@link WorkloadIdentity.fromFiles} reads each PEM file from. */
export interface WorkloadCredentialFiles {
  certificateChain: string
  privateKey: string
  trustBundle: string
  crl?: string | undefined
}

const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/**
 * The credentials a workload holds right now, and the one SPIFFE ID they prove. Servers, clients
 * and gRPC credentials built from it follow {@link WorkloadIdentity.update}: the rotation agent
 * (or anything else that obtains new credentials) swaps them in place, and listeners apply them
 * to new handshakes.
 *
 * @example
 * const identity = await WorkloadIdentity.fromFiles({ certificateChain: 'svid.pem', privateKey: 'svid.key', trustBundle: 'bundle.pem' })
 * identity.spiffeId.uri // 'spiffe://example.org/ns/shop/sa/orders'
 */
export class WorkloadIdentity {
  /** The SPIFFE ID of the leaf certificate; the same for every update. */
  readonly spiffeId: SpiffeId
  #credentials: WorkloadCredentials
  #certificate: X509Certificate
  readonly #listeners = new Set<(credentials: WorkloadCredentials) => void>()

  /** @throws TypeError saying what is wrong with the credentials. */
  constructor(credentials: WorkloadCredentials) {
    const { certificate, spiffeId } = checkCredentials(credentials)
    this.spiffeId = spiffeId
    this.#credentials = freeze(credentials)
    this.#certificate = certificate
  }

  /** Reads the credentials from PEM files. */
  static async fromFiles(files: WorkloadCredentialFiles): Promise<WorkloadIdentity> {
    return new WorkloadIdentity(await readWorkloadCredentials(files))
  }

  /** The current credentials (frozen). */
  get credentials(): WorkloadCredentials {
    return this.#credentials
  }

  /** The current leaf certificate. */
  get certificate(): X509Certificate {
    return this.#certificate
  }

  get trustDomain(): string {
    return this.spiffeId.trustDomain
  }

  /**
   * Replaces the credentials and tells every listener. The new ones are checked first (the key
   * matches the leaf, the PEM and CRL load, the SPIFFE ID is unchanged); nothing changes if
   * they fail.
   *
   * @throws TypeError saying what is wrong with `next`.
   */
  update(next: WorkloadCredentials): void {
    const { certificate } = checkCredentials(next, this.spiffeId)
    this.#credentials = freeze(next)
    this.#certificate = certificate
    const failures: unknown[] = []
    for (const listener of this.#listeners) {
      try {
        listener(this.#credentials)
      } catch (err) {
        failures.push(err)
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'a listener failed to apply the new credentials')
  }

  /** Calls `listener` after every update; returns the function that stops it. */
  onUpdate(listener: (credentials: WorkloadCredentials) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }
}

/**
 * Reads workload credentials from PEM files, e.g. to hand them to {@link WorkloadIdentity.update}.
 *
 * @example
 * identity.update(await readWorkloadCredentials({ certificateChain: 'svid.pem', privateKey: 'svid.key', trustBundle: 'bundle.pem', crl: 'crl.pem' }))
 */
export async function readWorkloadCredentials(files: WorkloadCredentialFiles): Promise<WorkloadCredentials> {
  const [certificateChainPem, privateKeyPem, trustBundlePem, crlPem] = await Promise.all([
    readFile(files.certificateChain, 'utf8'),
    readFile(files.privateKey, 'utf8'),
    readFile(files.trustBundle, 'utf8'),
    files.crl === undefined ? undefined : readFile(files.crl, 'utf8'),
  ])
  return { certificateChainPem, privateKeyPem, trustBundlePem, crlPem }
}

/** X509-SVID §2: the leaf names exactly one SPIFFE ID, of a workload (a path), in a URI SAN; on update, the same one. */
function checkCredentials(credentials: WorkloadCredentials, current?: SpiffeId): { certificate: X509Certificate; spiffeId: SpiffeId } {
  const { certificateChainPem, privateKeyPem, trustBundlePem, crlPem } = credentials as Partial<WorkloadCredentials>
  for (const [name, value] of Object.entries({ certificateChainPem, privateKeyPem, trustBundlePem })) {
    if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a PEM string`)
  }
  if (crlPem !== undefined && (typeof crlPem !== 'string' || !crlPem.includes('-----BEGIN X509 CRL-----'))) throw new TypeError('crlPem must be PEM CRLs when given')
  const [leafPem] = certificateChainPem!.match(CERTIFICATE_PEM) ?? []
  if (leafPem === undefined) throw new TypeError('certificateChainPem holds no certificate')
  if (!trustBundlePem!.includes('-----BEGIN CERTIFICATE-----')) throw new TypeError('trustBundlePem holds no certificate')
  const certificate = readCertificate(leafPem)
  const { uris } = subjectAltNames(certificate)
  if (uris.length !== 1) throw new TypeError(`the workload certificate must have exactly one URI SAN (its SPIFFE ID), not ${uris.length}`)
  const spiffeId = parseSpiffeId(uris[0]!)
  if (typeof spiffeId === 'string') throw new TypeError(`the workload certificate's URI SAN is not a SPIFFE ID: ${spiffeId}`)
  if (spiffeId.path === '') throw new TypeError(`${spiffeId.uri} names a trust domain, not a workload`)
  if (current !== undefined && spiffeId.uri !== current.uri) {
    throw new TypeError(`the new certificate is for ${spiffeId.uri}, not ${current.uri}: an identity keeps its SPIFFE ID`)
  }
  try {
    createSecureContext(secureContextOptions(credentials))
  } catch (err) {
    throw new TypeError(`the workload credentials do not load: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  return { certificate, spiffeId }
}

function readCertificate(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem)
  } catch (err) {
    throw new TypeError('the first certificate of certificateChainPem cannot be read', { cause: err })
  }
}

function freeze(credentials: WorkloadCredentials): WorkloadCredentials {
  const { certificateChainPem, privateKeyPem, trustBundlePem, crlPem } = credentials
  return Object.freeze({ certificateChainPem, privateKeyPem, trustBundlePem, ...(crlPem !== undefined && { crlPem }) })
}
