import { execFile } from 'node:child_process'
import { request, createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { pino } from 'pino'
import {
  mtlsServerOptions,
  PeerAuthorizer,
  PeerRefusalError,
  peerRefusalCodes,
  rotateServerCredentials,
  WorkloadIdentity,
  type PeerRefusalCode,
} from '../src/tls/index.js'
import { TestPki, type KeyAndChain } from './helpers/test-pki.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const ADMIN = 'spiffe://example.org/ns/ops/sa/admin'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'
const INTRUDER = 'spiffe://example.org/ns/shop/sa/intruder'

interface LogLine {
  level: number
  msg: string
  code: PeerRefusalCode
  spiffeId?: string
  tlsCode?: string
  route?: string
}

interface Outcome {
  status?: number
  body?: string
  error?: string
}

/** One HTTPS request on a new connection, presenting `client` (or no certificate). */
function attempt(port: number, pki: TestPki, client: KeyAndChain | undefined, path = '/'): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        ca: pki.trustBundlePem,
        ...(client && { cert: client.certificateChainPem, key: client.privateKeyPem }),
        // The server's own SPIFFE ID is not what these tests are about.
        checkServerIdentity: () => undefined,
      },
      (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => (body += chunk.toString()))
        res.on('end', () => {
          resolve({ status: res.statusCode!, body })
        })
      },
    )
    req.on('error', (err) => {
      resolve({ error: err.message })
    })
    req.end()
  })
}

/** openssl s_client, asynchronously: the server under test runs on this event loop. */
function sClient(args: readonly string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ ok: err === null, output: `${stdout}${stderr}` })
    })
    child.stdin?.end()
  })
}

describe('an mTLS server built from a workload identity', () => {
  let pki: TestPki
  let identity: WorkloadIdentity
  let server: Server
  let port: number
  let revokedOrders: KeyAndChain
  const lines: LogLine[] = []
  const log = pino({ level: 'warn' }, new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as LogLine); done() } }))

  beforeAll(async () => {
    pki = await TestPki.create()
    revokedOrders = await pki.issue(ORDERS)
    identity = new WorkloadIdentity({ ...(await pki.credentials(PAYMENTS)), crlPem: pki.revoke(revokedOrders.certificateChainPem) })
    const peers = new PeerAuthorizer({ trustDomain: identity.trustDomain, allow: [ORDERS, ADMIN], log })
    const adminOnly = peers.forRoute('GET /admin', [ADMIN])
    server = createServer(mtlsServerOptions(identity), (req, res) => {
      try {
        const caller = req.url === '/admin' ? adminOnly(req.socket) : peers.authorize(req.socket)
        res.end(caller.uri)
      } catch (err) {
        if (!(err instanceof PeerRefusalError)) throw err
        res.writeHead(403).end(err.code)
      }
    })
    peers.attach(server)
    rotateServerCredentials(server, identity)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    pki.cleanup()
  })
  beforeEach(() => {
    lines.length = 0
  })

  it('has a distinct code for every refusal', () => {
    expect(new Set(peerRefusalCodes).size).toBe(peerRefusalCodes.length)
  })

  it('serves a workload on the allow-list and tells the handler who it is', async () => {
    expect(await attempt(port, pki, await pki.issue(ORDERS))).toEqual({ status: 200, body: ORDERS })
    // A leaf minted by openssl with the X509-SVID extensions passes as well.
    expect(await attempt(port, pki, pki.opensslLeaf(ORDERS))).toEqual({ status: 200, body: ORDERS })
    expect(lines).toEqual([])
  })

  const refusals: Array<[string, () => Promise<KeyAndChain | undefined> | KeyAndChain | undefined, PeerRefusalCode, RegExp]> = [
    ['no client certificate', () => undefined, 'ERR_PEER_NO_CERTIFICATE', /sent no certificate/],
    ['a self-signed certificate (openssl req -x509)', () => pki.selfSigned(ORDERS), 'ERR_PEER_UNTRUSTED', /does not lead to the trust bundle/],
    ['a certificate from another CA', async () => pki.issue(ORDERS, { ca: await pki.otherCa() }), 'ERR_PEER_UNTRUSTED', /does not lead to the trust bundle/],
    ['an expired certificate', async () => pki.issue(ORDERS, { ca: await pki.shiftedCa(-3_600_000), ttlSec: 60 }), 'ERR_PEER_EXPIRED', /has expired \(CERT_HAS_EXPIRED\)/],
    ['a certificate not valid yet', async () => pki.issue(ORDERS, { ca: await pki.shiftedCa(3_600_000) }), 'ERR_PEER_NOT_YET_VALID', /not valid yet \(CERT_NOT_YET_VALID\)/],
    ['a revoked certificate', () => revokedOrders, 'ERR_PEER_REVOKED', /revoked by the CRL \(CERT_REVOKED\)/],
    ['a serverAuth-only certificate', () => pki.opensslLeaf(ORDERS, { extendedKeyUsage: 'serverAuth' }), 'ERR_PEER_PURPOSE', /INVALID_PURPOSE/],
    ['a certificate without extended key usage', () => pki.opensslLeaf(ORDERS, { extendedKeyUsage: null }), 'ERR_PEER_PURPOSE', /no extended key usage; clientAuth is required/],
    ['a CA:TRUE leaf', () => pki.opensslLeaf(ORDERS, { basicConstraints: 'critical,CA:TRUE', keyUsage: 'critical,digitalSignature,keyCertSign' }), 'ERR_PEER_CA', /CA certificate/],
    ['two URI SANs', () => pki.opensslLeaf(ORDERS, { subjectAltName: `URI:${ORDERS},URI:${ADMIN}` }), 'ERR_PEER_SAN', /exactly one URI \(its SPIFFE ID\), not 2/],
    ['no URI SAN', () => pki.opensslLeaf(ORDERS, { subjectAltName: 'DNS:orders.shop.svc' }), 'ERR_PEER_SAN', /not 0/],
    ['a URI SAN that is not a SPIFFE ID', () => pki.opensslLeaf('https://orders.example.org/'), 'ERR_PEER_SAN', /not a SPIFFE ID/],
    // node:crypto escapes the comma, so the name stays one (invalid) URI instead of posing as two.
    ['a URI SAN that smuggles a second name after a comma', () => pki.opensslLeaf(ORDERS, { subjectAltName: `@names\n[names]\nURI.1=${INTRUDER}, URI:${ORDERS}` }), 'ERR_PEER_SAN', /not a SPIFFE ID/],
    ['the trust domain itself as the identity', () => pki.opensslLeaf('spiffe://example.org'), 'ERR_PEER_SAN', /names the trust domain/],
    ['another trust domain', () => pki.opensslLeaf('spiffe://evil.org/ns/shop/sa/orders'), 'ERR_PEER_TRUST_DOMAIN', /not in trust domain example\.org/],
    ['an identity not on the allow-list', () => pki.issue(INTRUDER), 'ERR_PEER_NOT_ALLOWED', /spiffe:\/\/example\.org\/ns\/shop\/sa\/intruder is not allowed/],
  ]

  it.each(refusals)('refuses %s, and logs why', async (_name, make, code, reason) => {
    const outcome = await attempt(port, pki, await make())
    expect(outcome.status).toBeUndefined()
    expect(outcome.error).toMatch(/socket hang up|ECONNRESET|alert|certificate/)
    await vi.waitFor(() => {
      expect(lines).toHaveLength(1)
    })
    expect(lines[0]).toMatchObject({ level: 40, code, msg: expect.stringMatching(reason) as unknown })
  })

  it('names the refused identity in the log once the chain has verified', async () => {
    await attempt(port, pki, await pki.issue(INTRUDER))
    await vi.waitFor(() => {
      expect(lines).toHaveLength(1)
    })
    expect(lines[0]).toMatchObject({ code: 'ERR_PEER_NOT_ALLOWED', spiffeId: INTRUDER, serialNumber: expect.stringMatching(/^[0-9a-f]+$/) as unknown })
  })

  it('narrows the allow-list per route: 403 and a log line for a workload the route does not allow', async () => {
    expect(await attempt(port, pki, await pki.issue(ORDERS), '/admin')).toEqual({ status: 403, body: 'ERR_PEER_NOT_ALLOWED' })
    expect(lines).toMatchObject([{ code: 'ERR_PEER_NOT_ALLOWED', route: 'GET /admin', spiffeId: ORDERS, msg: `${ORDERS} is not allowed on GET /admin` }])
    expect(await attempt(port, pki, await pki.issue(ADMIN), '/admin')).toEqual({ status: 200, body: ADMIN })
  })

  it('refuses TLS 1.1 (openssl s_client -tls1_1) and logs it', async () => {
    const client = await pki.issue(ORDERS)
    pki.openssl.write('client.pem', client.certificateChainPem)
    pki.openssl.write('client.key', client.privateKeyPem)
    // SECLEVEL=0 lets OpenSSL 3 offer TLS 1.1 at all, so that it is the server that refuses.
    const old = await sClient(['-connect', `127.0.0.1:${port}`, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0', '-cert', pki.openssl.path('client.pem'), '-key', pki.openssl.path('client.key')])
    expect(old.ok).toBe(false)
    expect(old.output).toMatch(/alert protocol version|no protocols available|unsupported protocol/i)
    await vi.waitFor(() => {
      expect(lines).toMatchObject([{ code: 'ERR_PEER_TLS_VERSION' }])
    })
    // The same client over TLS 1.2 and 1.3 gets through.
    for (const version of ['-tls1_2', '-tls1_3']) {
      const ok = await sClient(['-connect', `127.0.0.1:${port}`, version, '-cert', pki.openssl.path('client.pem'), '-key', pki.openssl.path('client.key'), '-CAfile', pki.openssl.path('bundle.pem')])
      expect(ok.output, version).toMatch(/Verification: OK|Verify return code: 0/)
    }
  })

  it('refuses a certificate at the next handshake once a CRL listing it is pushed, without a restart', async () => {
    const other = new WorkloadIdentity(await pki.credentials(PAYMENTS))
    const peers = new PeerAuthorizer({ trustDomain: other.trustDomain, allow: [ORDERS], log })
    const second = createServer(mtlsServerOptions(other), (_req, res) => res.end('ok'))
    peers.attach(second)
    rotateServerCredentials(second, other)
    await new Promise<void>((resolve) => second.listen(0, '127.0.0.1', resolve))
    const secondPort = (second.address() as AddressInfo).port
    try {
      const soonRevoked = await pki.issue(ORDERS)
      expect(await attempt(secondPort, pki, soonRevoked)).toEqual({ status: 200, body: 'ok' })
      other.update({ ...other.credentials, crlPem: pki.revoke(soonRevoked.certificateChainPem) })
      expect((await attempt(secondPort, pki, soonRevoked)).status).toBeUndefined()
      await vi.waitFor(() => {
        expect(lines).toMatchObject([{ code: 'ERR_PEER_REVOKED' }])
      })
      expect(await attempt(secondPort, pki, await pki.issue(ORDERS))).toEqual({ status: 200, body: 'ok' })
    } finally {
      await new Promise((resolve) => second.close(resolve))
    }
  })
})
