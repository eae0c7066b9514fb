import { createSecureServer, type Http2SecureServer } from 'node:http2'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request, type Agent } from 'undici'
import { createMtlsAgent, mtlsServerOptions, PeerAuthorizer, PeerRefusalError, WorkloadIdentity, type PeerRefusalCode } from '../src/tls/index.js'
import { TestPki, type KeyAndChain } from './helpers/test-pki.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'
const INTRUDER = 'spiffe://example.org/ns/shop/sa/intruder'

async function listen(server: Server | Http2SecureServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function get(url: string, dispatcher: Agent): Promise<{ status: number; body: string }> {
  const response = await request(url, { dispatcher })
  return { status: response.statusCode, body: await response.body.text() }
}

/** What a failed request carries: ours, or Node's verification code. */
function failure(err: unknown): string {
  const error = err as { code?: string; cause?: { code?: string } }
  return error.code ?? error.cause?.code ?? String(err)
}

describe('an outbound mTLS client (undici Agent) built from a workload identity', () => {
  let pki: TestPki
  let client: WorkloadIdentity
  const servers: Array<Server | Http2SecureServer> = []

  /** A plain HTTPS server presenting `certificate`, answering 200 to anyone. */
  const serverWith = (certificate: KeyAndChain) => {
    const server = createServer({ cert: certificate.certificateChainPem, key: certificate.privateKeyPem }, (_req, res) => res.end('hello'))
    servers.push(server)
    return listen(server)
  }

  beforeAll(async () => {
    pki = await TestPki.create()
    client = new WorkloadIdentity(await pki.credentials(ORDERS))
  })
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
    pki.cleanup()
  })

  it('presents the workload certificate to a server that expects it, and checks the server by SPIFFE ID', async () => {
    const identity = new WorkloadIdentity(await pki.credentials(PAYMENTS))
    const peers = new PeerAuthorizer({ trustDomain: 'example.org', allow: [ORDERS], onRefusal: () => undefined })
    const server = createServer(mtlsServerOptions(identity), (req, res) => res.end(peers.authorize(req.socket).uri))
    servers.push(server)
    peers.attach(server)
    const dispatcher = createMtlsAgent(client, { expect: [PAYMENTS] })
    expect(await get(await listen(server), dispatcher)).toEqual({ status: 200, body: ORDERS })
    await dispatcher.close()
  })

  const refusals: Array<[string, () => Promise<KeyAndChain> | KeyAndChain, string, PeerRefusalCode | undefined]> = [
    ['presents another SPIFFE ID than expected', () => pki.issue(INTRUDER), 'ERR_PEER_NOT_ALLOWED', 'ERR_PEER_NOT_ALLOWED'],
    ['is in another trust domain (openssl, our intermediate)', () => pki.opensslLeaf('spiffe://evil.org/ns/shop/sa/payments'), 'ERR_PEER_TRUST_DOMAIN', 'ERR_PEER_TRUST_DOMAIN'],
    ['has two URI SANs', () => pki.opensslLeaf(PAYMENTS, { subjectAltName: `URI:${PAYMENTS},URI:${INTRUDER}` }), 'ERR_PEER_SAN', 'ERR_PEER_SAN'],
    ['presents a CA:TRUE certificate', () => pki.opensslLeaf(PAYMENTS, { basicConstraints: 'critical,CA:TRUE', keyUsage: 'critical,digitalSignature,keyCertSign' }), 'ERR_PEER_CA', 'ERR_PEER_CA'],
    // The TLS stack refuses these before any SPIFFE check.
    ['presents a clientAuth-only certificate', () => pki.opensslLeaf(PAYMENTS, { extendedKeyUsage: 'clientAuth' }), 'INVALID_PURPOSE', undefined],
    ['is certified by another CA', async () => pki.issue(PAYMENTS, { ca: await pki.otherCa() }), 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', undefined],
    ['presents a self-signed certificate', () => pki.selfSigned(PAYMENTS), 'DEPTH_ZERO_SELF_SIGNED_CERT', undefined],
  ]

  it.each(refusals)('refuses a server that %s', async (_name, make, expected, reported) => {
    const url = await serverWith(await make())
    const seen: PeerRefusalCode[] = []
    const dispatcher = createMtlsAgent(client, { expect: [PAYMENTS], onRefusal: (reason) => seen.push(reason.code) })
    const error: unknown = await get(url, dispatcher).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(failure(error)).toBe(expected)
    if (reported !== undefined) expect(error).toBeInstanceOf(PeerRefusalError)
    expect(seen).toEqual(reported === undefined ? [] : [reported])
    await dispatcher.close()
  })

  it('accepts a predicate as the allow-list', async () => {
    const url = await serverWith(await pki.issue(PAYMENTS))
    const inShop = createMtlsAgent(client, { expect: (id) => id.path.startsWith('/ns/shop/') })
    expect(await get(url, inShop)).toEqual({ status: 200, body: 'hello' })
    const inOps = createMtlsAgent(client, { expect: (id) => id.path.startsWith('/ns/ops/') })
    await expect(get(url, inOps)).rejects.toMatchObject({ code: 'ERR_PEER_NOT_ALLOWED' })
    await Promise.all([inShop.close(), inOps.close()])
  })

  it('works over HTTP/2, and the HTTP/2 server refuses a client not on its allow-list', async () => {
    const identity = new WorkloadIdentity(await pki.credentials(PAYMENTS))
    const refused: PeerRefusalCode[] = []
    const peers = new PeerAuthorizer({ trustDomain: 'example.org', allow: [ORDERS], onRefusal: (reason) => refused.push(reason.code) })
    const server = createSecureServer(mtlsServerOptions(identity), (req, res) => {
      res.end(`${req.httpVersion} ${peers.authorize(req.socket).uri}`)
    })
    servers.push(server)
    peers.attach(server)
    const url = await listen(server)
    const h2 = createMtlsAgent(client, { expect: [PAYMENTS], agent: { allowH2: true } })
    expect(await get(url, h2)).toEqual({ status: 200, body: `2.0 ${ORDERS}` })
    const intruder = createMtlsAgent(new WorkloadIdentity(await pki.credentials(INTRUDER)), { expect: [PAYMENTS], agent: { allowH2: true } })
    await expect(get(url, intruder)).rejects.toThrow()
    expect(refused).toEqual(['ERR_PEER_NOT_ALLOWED'])
    await Promise.all([h2.close(), intruder.close()])
  })
})
