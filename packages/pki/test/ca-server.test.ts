import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '@meshguard/auth-server'
import { CaService, initCa, newWorkloadKey, startCaServer, type CaAuditEvent, type CaServer, type CertificateAuthority } from '../src/index.js'
import { OpenSsl } from './openssl.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'
const passphrase = 'correct horse battery staple'

interface Reply {
  status: number
  body: Record<string, unknown>
  text: string
}

interface ClientCredentials {
  key: string
  cert: string
}

/** An HTTPS request to the CA that trusts only the bundle, optionally presenting a client certificate. */
function call(server: CaServer, bundle: string, method: string, path: string, body?: unknown, client?: ClientCredentials): Promise<Reply> {
  const url = new URL(path, server.url)
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      { method, ca: bundle, servername: 'localhost', agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...client },
      (response) => {
        let text = ''
        response.on('data', (chunk: Buffer) => (text += chunk.toString()))
        response.on('end', () => {
          const json = response.headers['content-type']?.startsWith('application/json') ? (JSON.parse(text) as Record<string, unknown>) : {}
          resolve({ status: response.statusCode!, body: json, text })
        })
      },
    )
    request.on('error', reject)
    request.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

describe('the CA issuance service over HTTPS', () => {
  const root = mkdtempSync(join(tmpdir(), 'meshguard-ca-server-'))
  const openssl = new OpenSsl()
  const audit: CaAuditEvent[] = []
  let ca: CertificateAuthority
  let store: Store
  let service: CaService
  let server: CaServer
  let bundle: string
  /** The orders workload's key and its current certificate chain. */
  const orders: ClientCredentials = { key: '', cert: '' }

  const start = async () => {
    store = await openStore({ dataDir: join(root, 'data') })
    service = new CaService({ ca, store, audit: { record: (event) => audit.push(event) } })
    server = await startCaServer({ service })
  }
  const stop = async () => {
    await server.close()
    await store.close()
  }
  const joinAs = async (identity: string, token: string, csr?: string) => {
    const key = await newWorkloadKey(identity)
    const reply = await call(server, bundle, 'POST', '/v1/join', { token, csr: csr ?? key.csrPem })
    return { reply, key: key.keyPem }
  }

  beforeAll(async () => {
    ca = await initCa({ dir: join(root, 'ca'), trustDomain: 'example.org', passphrase })
    bundle = ca.trustBundlePem
    openssl.write('bundle.pem', bundle)
    openssl.write('intermediate.pem', ca.intermediate.toString('pem'))
    await start()
  })
  afterAll(async () => {
    await stop()
    rmSync(root, { recursive: true, force: true })
    openssl.cleanup()
  })

  it('gives a first certificate against a join token, which openssl verifies', async () => {
    const { token } = await service.createJoinToken({ spiffeId: ORDERS })
    const { reply, key } = await joinAs(ORDERS, token)
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({ spiffe_id: ORDERS, trust_bundle: bundle })
    orders.key = key
    orders.cert = reply.body.certificate_chain as string
    openssl.write('orders.pem', orders.cert)
    expect(openssl.run(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'intermediate.pem', 'orders.pem'])).toMatch(/OK/)
    expect(audit).toContainEqual(expect.objectContaining({ type: 'ca.issue', decision: 'allow', subject: ORDERS, details: expect.objectContaining({ kind: 'join' }) as unknown }))
  })

  it('serves its own certificate for its SPIFFE ID, over TLS 1.2 or later only', async () => {
    const port = new URL(server.url).port
    const tls13 = await openssl.talk(['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', 'bundle.pem', '-verify_return_error', '-brief'])
    expect(tls13.output).toMatch(/Verification: OK/)
    expect(tls13.output).toMatch(/TLSv1\.3/)
    const tls11 = await openssl.talk(['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_1', '-brief'])
    expect(tls11.ok).toBe(false)
    expect(tls11.output).not.toMatch(/Protocol version: TLSv1\.1/)
    const served = (await openssl.talk(['s_client', '-connect', `127.0.0.1:${port}`, '-showcerts'])).output
    openssl.write('served.pem', served.slice(served.indexOf('-----BEGIN CERTIFICATE-----'), served.indexOf('-----END CERTIFICATE-----') + 25))
    expect(openssl.run(['x509', '-in', 'served.pem', '-noout', '-ext', 'subjectAltName'])).toContain(`URI:${server.spiffeId}`)
  })

  it('redeems a join token once, however many try at the same time', async () => {
    const { token } = await service.createJoinToken({ spiffeId: PAYMENTS })
    const replies = await Promise.all(Array.from({ length: 20 }, () => joinAs(PAYMENTS, token)))
    expect(replies.map(({ reply }) => reply.status).sort()).toEqual([200, ...Array<number>(19).fill(401)])
    const again = await joinAs(PAYMENTS, token)
    expect(again.reply).toMatchObject({ status: 401, body: { error: 'ERR_JOIN_TOKEN' } })
  })

  it('keeps a join token when the CSR or its lifetime is refused, and burns it for another identity', async () => {
    const { token } = await service.createJoinToken({ spiffeId: ORDERS })
    const weak = openssl.csr('weak', ['-newkey', 'rsa:1024'], [`subjectAltName=URI:${ORDERS}`])
    expect((await joinAs(ORDERS, token, weak)).reply).toMatchObject({ status: 400, body: { error: 'ERR_CSR_KEY' } })
    const tooLong = await call(server, bundle, 'POST', '/v1/join', { token, csr: (await newWorkloadKey(ORDERS)).csrPem, ttl_sec: 10 * 86_400 })
    expect(tooLong).toMatchObject({ status: 400, body: { error: 'ERR_TTL' } })
    expect((await joinAs(ORDERS, token)).reply.status).toBe(200)

    const { token: second } = await service.createJoinToken({ spiffeId: ORDERS })
    expect((await joinAs(PAYMENTS, second)).reply).toMatchObject({ status: 400, body: { error: 'ERR_CSR_IDENTITY' } })
    expect((await joinAs(ORDERS, second)).reply).toMatchObject({ status: 401, body: { error: 'ERR_JOIN_TOKEN' } })
  })

  it('refuses an expired join token', async () => {
    const clock = { now: Date.now() }
    const timed = new CaService({ ca, store, now: () => clock.now })
    const { token } = await timed.createJoinToken({ spiffeId: ORDERS, ttlSec: 60 })
    clock.now += 61_000
    const { csrPem } = await newWorkloadKey(ORDERS)
    await expect(timed.join({ token, csr: csrPem })).rejects.toMatchObject({ code: 'ERR_JOIN_TOKEN' })
  })

  it('renews for the identity of the client certificate presented', async () => {
    const { keyPem, csrPem } = await newWorkloadKey(ORDERS)
    const reply = await call(server, bundle, 'POST', '/v1/renew', { csr: csrPem, ttl_sec: 600 }, orders)
    expect(reply).toMatchObject({ status: 200, body: { spiffe_id: ORDERS } })
    expect(reply.body.certificate_chain).not.toBe(orders.cert)
    expect(audit).toContainEqual(expect.objectContaining({ type: 'ca.issue', decision: 'allow', details: expect.objectContaining({ kind: 'renewal' }) as unknown }))
    orders.key = keyPem
    orders.cert = reply.body.certificate_chain as string
  })

  it.each([
    ['without a client certificate', () => undefined, ORDERS, 401, 'ERR_PEER_CERTIFICATE'],
    ['for another identity than the certificate', () => orders, PAYMENTS, 400, 'ERR_CSR_IDENTITY'],
    ['with a certificate from another CA', () => foreign, ORDERS, 401, 'ERR_PEER_CERTIFICATE'],
  ])('refuses a renewal %s', async (_name, client, identity, status, error) => {
    const { csrPem } = await newWorkloadKey(identity)
    expect(await call(server, bundle, 'POST', '/v1/renew', { csr: csrPem }, client())).toMatchObject({ status, body: { error } })
    expect(audit.at(-1)).toMatchObject({ type: 'ca.issue', decision: 'deny', reason: error })
  })

  it('publishes a revocation in the CRL and its event stream, and refuses renewal with the revoked certificate', async () => {
    const events: string[] = []
    const stream = httpsRequest(new URL('/v1/crl/events', server.url), { ca: bundle, servername: 'localhost', agent: false }, (response) => {
      response.on('data', (chunk: Buffer) => events.push(chunk.toString()))
    })
    stream.end()
    const { token } = await service.createJoinToken({ spiffeId: PAYMENTS })
    const { reply, key } = await joinAs(PAYMENTS, token)
    const serial = reply.body.serial_number as string
    await expect.poll(() => events.join('')).toMatch(/event: crl/)

    await service.revoke(serial, 'keyCompromise')
    await expect.poll(() => events.join(''), { timeout: 1_000 }).toContain(serial)
    stream.destroy()
    expect(audit.at(-1)).toMatchObject({ type: 'ca.revoke', decision: 'allow', subject: PAYMENTS, reason: 'keyCompromise' })

    const crl = await call(server, bundle, 'GET', '/v1/crl')
    openssl.write('crl.pem', crl.text)
    const text = openssl.run(['crl', '-in', 'crl.pem', '-noout', '-text', '-CAfile', 'intermediate.pem'])
    expect(text).toContain(serial.toUpperCase())
    expect(text).toMatch(/Key Compromise/)
    expect(text).toMatch(/X509v3 CRL Number/)
    expect(openssl.run(['crl', '-in', 'crl.pem', '-noout', '-CAfile', 'intermediate.pem'], '')).toBe('')

    const { csrPem } = await newWorkloadKey(PAYMENTS)
    const renewal = await call(server, bundle, 'POST', '/v1/renew', { csr: csrPem }, { key, cert: reply.body.certificate_chain as string })
    expect(renewal).toMatchObject({ status: 401, body: { error: 'ERR_PEER_CERTIFICATE' } })
  })

  it('refuses to revoke a certificate it never issued', async () => {
    await expect(service.revoke('0badc0ffee')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' })
  })

  it('remembers certificates, revocations and used tokens across a restart', async () => {
    const { token } = await service.createJoinToken({ spiffeId: ORDERS })
    expect((await joinAs(ORDERS, token)).reply.status).toBe(200)
    const revokedCount = (await service.crl()).serialNumbers.length
    await stop()
    await start()
    expect((await joinAs(ORDERS, token)).reply).toMatchObject({ status: 401, body: { error: 'ERR_JOIN_TOKEN' } })
    expect((await service.crl()).serialNumbers).toHaveLength(revokedCount)
    const { csrPem } = await newWorkloadKey(ORDERS)
    expect(await call(server, bundle, 'POST', '/v1/renew', { csr: csrPem }, orders)).toMatchObject({ status: 200, body: { spiffe_id: ORDERS } })
  })

  it('answers malformed requests with invalid_request', async () => {
    expect(await call(server, bundle, 'POST', '/v1/join', { token: 'x' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } })
    expect(await call(server, bundle, 'POST', '/v1/join', { token: 'x', csr: 'not a csr' })).toMatchObject({ status: 400, body: { error: 'ERR_CSR_MALFORMED' } })
  })
})

/** A workload certificate from a second, unrelated CA for the same identity. */
let foreign: ClientCredentials
beforeAll(async () => {
  const other = await initCa({ dir: mkdtempSync(join(tmpdir(), 'meshguard-other-ca-')), trustDomain: 'example.org', passphrase })
  const { keyPem, csrPem } = await newWorkloadKey(ORDERS)
  foreign = { key: keyPem, cert: (await other.issue({ csr: csrPem, identity: ORDERS })).chainPem }
})
