import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initCa, newWorkloadKey } from '@meshguard/pki'
import { serviceSpiffeId, type WorkloadTlsFiles } from '@meshguard/examples'
import { WorkloadIdentity } from '@meshguard/service-kit/tls'

/** `meshguard up`'s trust domain; every workload is `spiffe://meshguard.local/ns/demo/sa/<name>`, as there. */
export const MESH_TRUST_DOMAIN = 'meshguard.local'
export const AUTH_SERVER = 'auth-server'
/** The identity the load generator presents to api-a: the gateway's, which api-a admits on the high tier. */
export const GATEWAY = 'gateway'
/** The identity the gRPC load presents: the one `meshguard up` admits to the gRPC services on the high tier. */
export const DEMO_CALLER = 'demo-caller'
/** The edge client the gRPC load gets its tokens as (mesh-auth-server.ts registers it with the gRPC scopes). */
export const GRPC_CALLER = 'demo-client'

/** A CA and the certificates of the mesh's workloads, as PEM files in a temporary directory. */
export interface MeshWorkloads {
  readonly dir: string
  /** The files a service's `tls` configuration names. */
  files(name: string): WorkloadTlsFiles
  spiffeId(name: string): string
  /** The workload's identity, for a client in this process. */
  identity(name: string): WorkloadIdentity
  remove(): Promise<void>
}

/**
 * A CA made with `initCa` (ECDSA P-256 root and intermediate) in a new temporary directory, and for
 * each of `names` a key from `newWorkloadKey` and a certificate the CA issues for an hour, as
 * `meshguard up` and the examples' tests make them.
 */
export async function createMeshWorkloads(names: readonly string[]): Promise<MeshWorkloads> {
  const dir = await mkdtemp(join(tmpdir(), 'meshguard-bench-mesh-'))
  const ca = await initCa({ dir: join(dir, 'ca'), trustDomain: MESH_TRUST_DOMAIN, passphrase: randomBytes(24).toString('base64url') })
  const caFile = join(dir, 'bundle.pem')
  await writeFile(caFile, ca.trustBundlePem)
  const identities = new Map<string, { files: WorkloadTlsFiles; identity: WorkloadIdentity }>()
  for (const name of names) {
    const spiffeId = serviceSpiffeId(MESH_TRUST_DOMAIN, name)
    const { keyPem, csrPem } = await newWorkloadKey(spiffeId)
    const { chainPem } = await ca.issue({ csr: csrPem, identity: spiffeId, ttlSec: 3600 })
    const files = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key.pem`), caFile }
    await writeFile(files.certFile, chainPem)
    await writeFile(files.keyFile, keyPem, { mode: 0o600 })
    identities.set(name, { files, identity: new WorkloadIdentity({ certificateChainPem: chainPem, privateKeyPem: keyPem, trustBundlePem: ca.trustBundlePem }) })
  }
  const workload = (name: string) => {
    const found = identities.get(name)
    if (found === undefined) throw new Error(`no certificate was made for workload "${name}"`)
    return found
  }
  return {
    dir,
    files: (name) => workload(name).files,
    spiffeId: (name) => serviceSpiffeId(MESH_TRUST_DOMAIN, name),
    identity: (name) => workload(name).identity,
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}
