import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { X509Certificate } from 'node:crypto'
import { CaService, CertificateAuthority, initCa, newWorkloadKey } from '@meshguard/pki'
import type { Store } from '@meshguard/auth-server'
import { TRUST_DOMAIN, type MeshLayout } from './mesh-layout.js'

/** Workload certificates live a day; a start with less than a third left renews them. */
const LIFETIME_SEC = 24 * 3600

/**
 * The mesh's CA in `<data dir>/ca` (created on first start, reused after) and a certificate for
 * each workload, issued offline through the CA service so each issuance is recorded and audited.
 *
 * @returns the workloads whose certificate was (re)issued.
 */
export async function ensureWorkloadCertificates(layout: MeshLayout, store: Store, passphrase: string, workloads: readonly string[]): Promise<string[]> {
  const dir = join(layout.dataDir, 'ca')
  const ca = existsSync(join(dir, 'root.pem'))
    ? await CertificateAuthority.load({ dir, passphrase })
    : await initCa({ dir, trustDomain: TRUST_DOMAIN, passphrase })
  const service = new CaService({ ca, store, audit: { record: (event) => void store.appendAudit([event]) } })
  const issued: string[] = []
  for (const name of workloads) {
    const { certFile, keyFile, spiffeId } = layout.workload(name)
    if (isFresh(certFile, keyFile)) continue
    const key = await newWorkloadKey(spiffeId, [])
    const certificate = await service.issueOffline({ csr: key.csrPem, identity: spiffeId, ttlSec: LIFETIME_SEC })
    mkdirSync(dirname(certFile), { recursive: true, mode: 0o700 })
    writeFileSync(keyFile, key.keyPem, { mode: 0o600 })
    writeFileSync(certFile, certificate.chainPem)
    issued.push(name)
  }
  return issued
}

function isFresh(certFile: string, keyFile: string): boolean {
  if (!existsSync(certFile) || !existsSync(keyFile)) return false
  const notAfter = new Date(new X509Certificate(readFileSync(certFile)).validTo).getTime()
  return notAfter - Date.now() > (LIFETIME_SEC * 1000) / 3
}
