import { X509Certificate } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import { newWorkloadKey, spiffeId as parseId, subjectAltNames } from '@meshguard/pki'
import { Agent, buildConnector, request, type Dispatcher } from 'undici'
import { spiffeServerIdentity } from './check-server-identity.js'
import { createMtlsAgent } from './mtls-agent.js'
import { WorkloadIdentity } from './workload-identity.js'

/** Where the CA's issuance service is and how it is recognised. */
export interface CaEndpoint {
  /** `https://host:port` of `meshguard ca serve` (or the CA server a process embeds). */
  url: string | URL
  /** The trust bundle, obtained out of band: the CA server's certificate must lead to it. */
  trustBundlePem: string
  /** The CA server's SPIFFE ID; default `spiffe://<trust domain>/meshguard/ca`. */
  spiffeId?: string
}

interface Issued {
  spiffe_id: string
  certificate_chain: string
}

/**
 * A workload's first certificate: a new key (it never leaves this process) and a CSR for
 * `spiffeId`, redeemed with a one-time join token at the CA's `POST /v1/join`; the current CRL
 * comes with it. The CA server is checked by its SPIFFE ID against the trust bundle given.
 *
 * @example
 * const identity = await joinCa({ url: 'https://127.0.0.1:4100', trustBundlePem }, { token, spiffeId: 'spiffe://example.org/ns/shop/sa/orders' })
 */
export async function joinCa(ca: CaEndpoint, join: { token: string; spiffeId: string; dnsNames?: readonly string[]; ttlSec?: number }): Promise<WorkloadIdentity> {
  const { keyPem, csrPem } = await newWorkloadKey(join.spiffeId, join.dnsNames ?? [])
  const dispatcher = bundleAgent(ca)
  try {
    const issued = await post<Issued>(ca, '/v1/join', { token: join.token, csr: csrPem, ...(join.ttlSec !== undefined && { ttl_sec: join.ttlSec }) }, dispatcher)
    const crlPem = await text(ca, '/v1/crl', dispatcher)
    return new WorkloadIdentity({ certificateChainPem: issued.certificate_chain, privateKeyPem: keyPem, trustBundlePem: ca.trustBundlePem, crlPem })
  } finally {
    await dispatcher.close()
  }
}

/**
 * The `renew` function for a `RotationAgent`: the CSR to the CA's `POST /v1/renew` over mutual
 * TLS with the identity's current certificate, which is what authenticates it.
 *
 * @example
 * new RotationAgent({ identity, renew: caRenewal(ca, identity), log })
 */
export function caRenewal(ca: CaEndpoint, identity: WorkloadIdentity): (csrPem: string) => Promise<string> {
  const dispatcher = createMtlsAgent(identity, { expect: [caSpiffeId(ca)] })
  return async (csrPem) => (await post<Issued>(ca, '/v1/renew', { csr: csrPem }, dispatcher)).certificate_chain
}

/**
 * Follows the CA's CRL stream (`GET /v1/crl/events`) and puts each CRL into the identity's
 * credentials, so servers and clients built from it refuse a revoked peer at its next
 * handshake. Reconnects by itself, backing off to `maxDelayMs`.
 */
export function followCrl(ca: CaEndpoint, identity: WorkloadIdentity, options: { onError?: (err: Error) => void; maxDelayMs?: number } = {}): { close(): void } {
  const abort = new AbortController()
  /** Read through a function: `close()` changes it while the loop awaits. */
  const closed = () => abort.signal.aborted
  const dispatcher = bundleAgent(ca)
  void (async () => {
    let delay = 500
    while (!closed()) {
      try {
        const response = await request(new URL('/v1/crl/events', ca.url), { dispatcher, signal: abort.signal, headers: { accept: 'text/event-stream' } })
        if (response.statusCode !== 200) throw new Error(`the CA answered ${response.statusCode} for its CRL stream`)
        delay = 500
        let buffer = ''
        for await (const chunk of response.body) {
          buffer += (chunk as Buffer).toString('utf8')
          let end: number
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const data = event.split('\n').find((line) => line.startsWith('data: '))
            if (!event.startsWith('event: crl') || data === undefined) continue
            const { pem } = JSON.parse(data.slice('data: '.length)) as { pem: string }
            identity.update({ ...identity.credentials, crlPem: pem })
          }
        }
      } catch (err) {
        if (closed()) break
        options.onError?.(err instanceof Error ? err : new Error(String(err)))
      }
      await sleep(delay, undefined, { signal: abort.signal, ref: false }).catch(() => undefined)
      delay = Math.min(delay * 2, options.maxDelayMs ?? 30_000)
    }
    await dispatcher.close()
  })()
  return {
    close: () => {
      abort.abort()
    },
  }
}

function caSpiffeId(ca: CaEndpoint): string {
  if (ca.spiffeId !== undefined) return parseId(ca.spiffeId).uri
  return `spiffe://${trustDomainOf(ca.trustBundlePem)}/meshguard/ca`
}

/** The trust domain the bundle's root names in its `spiffe://<trust domain>` URI SAN. */
function trustDomainOf(bundlePem: string): string {
  const [rootPem] = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(bundlePem) ?? []
  if (rootPem === undefined) throw new TypeError('trustBundlePem holds no certificate')
  const uri = subjectAltNames(new X509Certificate(rootPem)).uris.find((name) => name.startsWith('spiffe://'))
  if (uri === undefined) throw new TypeError("the trust bundle's root names no trust domain: give the CA server's spiffeId")
  return parseId(uri).trustDomain
}

/** A client that trusts only the bundle and accepts only the CA server's SPIFFE ID, without a client certificate. */
function bundleAgent(ca: CaEndpoint): Agent {
  const expected = caSpiffeId(ca)
  const checkServerIdentity = spiffeServerIdentity(parseId(expected).trustDomain, (id) => id.uri === expected, () => undefined)
  const connect = buildConnector({ secureContext: createSecureContext({ ca: ca.trustBundlePem, minVersion: 'TLSv1.2' }), rejectUnauthorized: true, checkServerIdentity })
  return new Agent({ connect })
}

async function post<T>(ca: CaEndpoint, path: string, body: unknown, dispatcher: Dispatcher): Promise<T> {
  const response = await request(new URL(path, ca.url), { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const answer = (await response.body.json()) as T & { error?: string; error_description?: string }
  if (response.statusCode !== 200) {
    throw new CaRequestError(answer.error ?? 'error', `the CA refused ${path}: ${answer.error_description ?? String(response.statusCode)}`, response.statusCode)
  }
  return answer
}

async function text(ca: CaEndpoint, path: string, dispatcher: Dispatcher): Promise<string> {
  const response = await request(new URL(path, ca.url), { dispatcher })
  if (response.statusCode !== 200) throw new CaRequestError('error', `the CA answered ${response.statusCode} for ${path}`, response.statusCode)
  return response.body.text()
}

/** The CA refused a request; `code` is its `PkiError` code (e.g. `ERR_JOIN_TOKEN`). */
export class CaRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = 'CaRequestError'
  }
}

