import { createPrivateKey, webcrypto } from 'node:crypto'
import { generateKeyPair } from '../keys.js'
import { ECDSA_P256, x509 } from '../x509.js'

/** A fresh private key and a CSR for it naming one SPIFFE ID (and DNS names). */
export interface WorkloadKey {
  /** PKCS#8 PEM, unencrypted: for the TLS context of the process that made it. */
  keyPem: string
  csrPem: string
}

/**
 * A new P-256 key and a PKCS#10 request for `spiffeId`, as a workload makes before joining or
 * renewing: the private key never leaves the process.
 *
 * @example
 * const { keyPem, csrPem } = await newWorkloadKey('spiffe://example.org/ns/shop/sa/orders')
 */
export async function newWorkloadKey(spiffeId: string, dnsNames: readonly string[] = []): Promise<WorkloadKey> {
  const keys = await generateKeyPair()
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: ECDSA_P256,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }, ...dnsNames.map((value) => ({ type: 'dns' as const, value }))])],
  })
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString()
  return { keyPem, csrPem: csr.toString('pem') }
}
