import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '@meshguard/auth-server'
import { CaService, initCa, newWorkloadKey, startCaServer, type CaServer } from '@meshguard/pki'
import {
  caRenewal,
  CaRequestError,
  createMtlsAgent,
  followCrl,
  joinCa,
  mtlsServerOptions,
  PeerAuthorizer,
  RotationAgent,
  rotateServerCredentials,
  type CaEndpoint,
  type PeerRefusalError,
  type WorkloadIdentity,
} from '../src/tls/index.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'

/**
 * The whole life of two workloads against a real CA server: join with one-time tokens, mutual
 * TLS between them, renewal over mutual TLS, a revocation pushed to the server, recovery by
 * renewing, and the CA going away.
 */
describe('workload identities from the CA, end to end', () => {
  const root = mkdtempSync(join(tmpdir(), 'meshguard-pki-flow-'))
  let store: Store
  let service: CaService
  let caServer: CaServer
  let ca: CaEndpoint
  let orders: WorkloadIdentity
  let payments: WorkloadIdentity
  let paymentsServer: Server
  let paymentsUrl: string
  const refusals: PeerRefusalError[] = []
  const closers: Array<() => unknown> = []

  const call = async (identity: WorkloadIdentity) => {
    const dispatcher = createMtlsAgent(identity, { expect: [PAYMENTS] })
    try {
      const response = await request(paymentsUrl, { dispatcher })
      return { status: response.statusCode, body: await response.body.text() }
    } catch (err) {
      return { error: (err as Error).message }
    } finally {
      await dispatcher.close()
    }
  }

  beforeAll(async () => {
    const authority = await initCa({ dir: join(root, 'ca'), trustDomain: 'example.org', passphrase: 'correct horse battery staple' })
    store = await openStore({ dataDir: join(root, 'data') })
    service = new CaService({ ca: authority, store })
    caServer = await startCaServer({ service })
    ca = { url: caServer.url, trustBundlePem: authority.trustBundlePem }

    const join_ = async (spiffeId: string) => joinCa(ca, { token: (await service.createJoinToken({ spiffeId })).token, spiffeId, ttlSec: 300 })
    orders = await join_(ORDERS)
    payments = await join_(PAYMENTS)

    const authorizer = new PeerAuthorizer({ trustDomain: 'example.org', allow: [ORDERS], onRefusal: (reason) => refusals.push(reason) })
    paymentsServer = createServer(mtlsServerOptions(payments), (req, res) => {
      res.end(authorizer.authorize(req.socket).uri)
    })
    closers.push(authorizer.attach(paymentsServer), rotateServerCredentials(paymentsServer, payments))
    const crl = followCrl(ca, payments)
    closers.push(() => {
      crl.close()
    })
    await new Promise<void>((done) => paymentsServer.listen(0, '127.0.0.1', done))
    paymentsUrl = `https://127.0.0.1:${(paymentsServer.address() as AddressInfo).port}/payments`
  })
  afterAll(async () => {
    for (const close of closers) await close()
    paymentsServer.close()
    await caServer.close().catch(() => undefined)
    await store.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('joins with one-time tokens and talks mutual TLS, each side checking the other SPIFFE ID', async () => {
    expect(orders.spiffeId.uri).toBe(ORDERS)
    expect(orders.credentials.crlPem).toContain('-----BEGIN X509 CRL-----')
    expect(await call(orders)).toEqual({ status: 200, body: ORDERS })
  })

  it('renews over mutual TLS with the current certificate, and the new one works', async () => {
    const renewed: string[] = []
    const agent = new RotationAgent({ identity: orders, renew: caRenewal(ca, orders), onError: () => undefined, onRenewed: (serial) => renewed.push(serial) })
    const before = orders.certificate.serialNumber.toLowerCase()
    expect(await agent.renewNow()).toBe(true)
    agent.stop()
    expect(renewed).toEqual([orders.certificate.serialNumber.toLowerCase()])
    expect(renewed[0]).not.toBe(before)
    expect(await call(orders)).toEqual({ status: 200, body: ORDERS })
  })

  it('refuses a revoked certificate at the next handshake once the CRL is pushed, and takes the renewed one', async () => {
    const crlBefore = payments.credentials.crlPem
    await service.revoke(orders.certificate.serialNumber, 'keyCompromise')
    await expect.poll(() => payments.credentials.crlPem, { timeout: 1_000 }).not.toBe(crlBefore)
    await expect.poll(async () => (await call(orders)).error ?? 'served', { timeout: 2_000 }).not.toBe('served')
    expect(refusals.at(-1)).toMatchObject({ code: 'ERR_PEER_REVOKED' })
    // The CA refuses to renew a revoked certificate: a new identity needs a new join token.
    const { csrPem } = await newWorkloadKey(ORDERS)
    await expect(caRenewal(ca, orders)(csrPem)).rejects.toMatchObject({ code: 'ERR_PEER_CERTIFICATE', status: 401 })
    orders = await joinCa(ca, { token: (await service.createJoinToken({ spiffeId: ORDERS })).token, spiffeId: ORDERS })
    expect(await call(orders)).toEqual({ status: 200, body: ORDERS })
  })

  it('keeps serving on the current certificate while the CA is down, and reports the failed renewal', async () => {
    const errors: Error[] = []
    const agent = new RotationAgent({ identity: orders, renew: caRenewal(ca, orders), onError: (err) => errors.push(err) })
    await caServer.close()
    expect(await agent.renewNow()).toBe(false)
    agent.stop()
    expect(errors).toHaveLength(1)
    expect(await call(orders)).toEqual({ status: 200, body: ORDERS })
  })

  it('reports a refused join with the CA code', async () => {
    caServer = await startCaServer({ service })
    ca = { ...ca, url: caServer.url }
    const refused = await joinCa(ca, { token: 'mgjoin_unknown', spiffeId: ORDERS }).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(CaRequestError)
    expect(refused).toMatchObject({ code: 'ERR_JOIN_TOKEN', status: 401 })
  })
})
