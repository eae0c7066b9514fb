import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initCa, newWorkloadKey, type CertificateAuthority } from '@meshguard/pki'

export const TRUST_DOMAIN = 'bench.example'
export const SERVER_ID = `spiffe://${TRUST_DOMAIN}/bench/server`
export const CLIENT_ID = `spiffe://${TRUST_DOMAIN}/bench/client`
/** The server certificate's DNS name, which Node's and OpenSSL's clients check. */
export const SERVER_NAME = 'localhost'

/**
 * What each handshake's connection carries once it is up: openssl s_time's request for a page,
 * and openssl s_server's `-WWW` answer for a file holding `ok\n`. Every server gets the request
 * and gives the answer, so the connections are the same whichever client and server make them.
 */
export const PAGE_PATH = '/ok'
export const PAGE_REQUEST = `GET ${PAGE_PATH} HTTP/1.0\r\n\r\n`
export const PAGE_RESPONSE = 'HTTP/1.0 200 ok\r\nContent-type: text/plain\r\n\r\nok\n'

/** A workload's certificate and key, as PEM files. */
export interface WorkloadFiles {
  spiffeId: string
  /** The leaf alone. */
  certificate: string
  /** The leaf then the intermediate. */
  certificateChain: string
  privateKey: string
}

/** Where the benchmark's CA, certificates and keys are: PEM files in a temporary directory. */
export interface MtlsFiles {
  dir: string
  /** The root: what both ends trust. */
  trustBundle: string
  intermediate: string
  /**
   * The intermediate then the root, for openssl s_time: it loads its `-cert` file's first
   * certificate only, and sends the intermediate too when it can build the chain from its store.
   */
  chainStore: string
  /** A directory holding the page openssl s_server serves (`-WWW` serves files of its working directory). */
  wwwDir: string
  server: WorkloadFiles
  client: WorkloadFiles
}

/**
 * A CA made with `initCa` (ECDSA P-256 root and intermediate) in a new temporary directory, a
 * server certificate for {@link SERVER_ID} and DNS {@link SERVER_NAME}, and a client certificate
 * for {@link CLIENT_ID}, each on a key made by `newWorkloadKey` and issued by the CA.
 */
export async function createMtlsFiles(): Promise<MtlsFiles> {
  const dir = await mkdtemp(join(tmpdir(), 'meshguard-bench-mtls-'))
  const ca = await initCa({ dir: join(dir, 'ca'), trustDomain: TRUST_DOMAIN, passphrase: randomBytes(24).toString('base64url') })
  const wwwDir = join(dir, 'www')
  await mkdir(wwwDir)
  await writeFile(join(wwwDir, PAGE_PATH.slice(1)), PAGE_RESPONSE.slice(PAGE_RESPONSE.indexOf('\r\n\r\n') + 4))
  const files: MtlsFiles = {
    dir,
    trustBundle: join(dir, 'bundle.pem'),
    intermediate: join(dir, 'intermediate.pem'),
    chainStore: join(dir, 'chain-store.pem'),
    wwwDir,
    server: await issueWorkload(ca, dir, 'server', SERVER_ID, [SERVER_NAME]),
    client: await issueWorkload(ca, dir, 'client', CLIENT_ID, []),
  }
  const intermediatePem = ca.intermediate.toString('pem')
  await writeFile(files.trustBundle, pemFile(ca.trustBundlePem))
  await writeFile(files.intermediate, pemFile(intermediatePem))
  await writeFile(files.chainStore, pemFile(intermediatePem) + pemFile(ca.trustBundlePem))
  return files
}

/** Removes what {@link createMtlsFiles} wrote. */
export function removeMtlsFiles(files: MtlsFiles): Promise<void> {
  return rm(files.dir, { recursive: true, force: true })
}

/** The PEM contents of a workload's files, for `tls.createSecureContext` or a `WorkloadIdentity`. */
export async function readWorkload(files: MtlsFiles, workload: WorkloadFiles): Promise<{ cert: string; key: string; ca: string }> {
  const [cert, key, ca] = await Promise.all([readFile(workload.certificateChain, 'utf8'), readFile(workload.privateKey, 'utf8'), readFile(files.trustBundle, 'utf8')])
  return { cert, key, ca }
}

async function issueWorkload(ca: CertificateAuthority, dir: string, name: string, spiffeId: string, dnsNames: string[]): Promise<WorkloadFiles> {
  const { keyPem, csrPem } = await newWorkloadKey(spiffeId, dnsNames)
  const issued = await ca.issue({ csr: csrPem, identity: spiffeId, allowedDnsNames: dnsNames })
  const workload: WorkloadFiles = {
    spiffeId,
    certificate: join(dir, `${name}.pem`),
    certificateChain: join(dir, `${name}-chain.pem`),
    privateKey: join(dir, `${name}.key`),
  }
  await writeFile(workload.certificate, pemFile(issued.certificatePem))
  await writeFile(workload.certificateChain, issued.chainPem)
  await writeFile(workload.privateKey, keyPem, { mode: 0o600 })
  return workload
}

/** OpenSSL refuses a file whose `-----END` line runs into the next `-----BEGIN`. */
function pemFile(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`
}
