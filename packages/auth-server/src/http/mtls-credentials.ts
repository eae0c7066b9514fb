import { readFile } from 'node:fs/promises'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import type { AuthServerConfig } from '../config/schema.js'
import { MeshguardError } from '../errors.js'

export type MtlsConfig = NonNullable<AuthServerConfig['mtls']>

/** TLS 1.2 at least; TLS 1.3 is preferred whenever both ends have it. */
const MIN_TLS_VERSION = 'TLSv1.2'
/** Node reads one CRL per PEM string, so a file of several is given as a list. */
const CRL_PEM = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g

export interface MtlsCredentials {
  /** For `https.createServer` and `setSecureContext`, which resets every field, `minVersion` included. */
  readonly options: SecureContextOptions
  /** The files as read, to tell whether a later read changed anything. */
  readonly contents: string
}

/**
 * Reads the mutual-TLS listener's certificate chain, key, trust bundle and CRLs, and checks they
 * make a TLS context: every PEM parses and the key is the certificate's.
 *
 * @throws MeshguardError `ERR_TLS_CREDENTIALS` naming the file or the problem.
 */
export async function readMtlsCredentials(config: MtlsConfig): Promise<MtlsCredentials> {
  const [cert, key, ca, crl] = await Promise.all([
    read('mtls.certFile', config.certFile),
    read('mtls.keyFile', config.keyFile),
    read('mtls.caFile', config.caFile),
    config.crlFile === undefined ? undefined : read('mtls.crlFile', config.crlFile),
  ])
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new MeshguardError('ERR_TLS_CREDENTIALS', `mtls.caFile ${config.caFile} holds no PEM certificate`)
  const crls = crl?.match(CRL_PEM)
  if (crl !== undefined && !crls) throw new MeshguardError('ERR_TLS_CREDENTIALS', `mtls.crlFile ${config.crlFile ?? ''} holds no PEM CRL`)
  const options: SecureContextOptions = { cert, key, ca, ...(crls && { crl: crls }), minVersion: MIN_TLS_VERSION }
  try {
    createSecureContext(options)
  } catch (err) {
    throw new MeshguardError('ERR_TLS_CREDENTIALS', `mtls: the certificate, key, trust bundle and CRL files are not usable together: ${(err as Error).message}`)
  }
  return { options, contents: [cert, key, ca, crl ?? ''].join('\0') }
}

async function read(option: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new MeshguardError('ERR_TLS_CREDENTIALS', `cannot read ${option} ${file}: ${(err as Error).message}`)
  }
}
