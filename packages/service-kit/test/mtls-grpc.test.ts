import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeGenericClientConstructor, Server, status, type Client, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js'
import { grpcPeerId, mtlsChannelCredentials, mtlsServerCredentials } from '../src/tls/grpc.js'
import { RotationAgent, WorkloadIdentity, type PeerRefusalCode } from '../src/tls/index.js'
import { TestPki } from './helpers/test-pki.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const ADMIN = 'spiffe://example.org/ns/ops/sa/admin'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'
const INTRUDER = 'spiffe://example.org/ns/shop/sa/intruder'

/** A real gRPC service (HTTP/2, gRPC framing) with a JSON codec, so no generated code is needed. */
const codec = { serialize: (value: unknown) => Buffer.from(JSON.stringify(value)), deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString()) }
const method = (name: string) => ({
  path: `/demo.PaymentService/${name}`,
  originalName: name,
  requestStream: false,
  responseStream: false,
  requestSerialize: codec.serialize,
  requestDeserialize: codec.deserialize,
  responseSerialize: codec.serialize,
  responseDeserialize: codec.deserialize,
})
const PaymentService = { GetPayment: method('GetPayment'), Refund: method('Refund') }
const PaymentClient = makeGenericClientConstructor(PaymentService, 'PaymentService')

interface Answer {
  caller: string
  serial: string
}

function call(client: Client, name: keyof typeof PaymentService): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const unary = (client as unknown as Record<string, (request: unknown, options: object, callback: (err: ServiceError | null, value?: Answer) => void) => void>)[name]!
    unary.call(client, {}, { deadline: Date.now() + 5_000 }, (err, value) => {
      if (err) reject(err)
      else resolve(value!)
    })
  })
}

describe('gRPC over mutual TLS with workload identities', () => {
  let pki: TestPki
  let serverIdentity: WorkloadIdentity
  let server: Server
  let target: string
  const refusals: Array<{ code: PeerRefusalCode; route: string | undefined }> = []
  const clients: Client[] = []

  const clientFor = (identity: WorkloadIdentity, expect: readonly string[] = [PAYMENTS]) => {
    const client = new PaymentClient(target, mtlsChannelCredentials(identity, { expect }))
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    pki = await TestPki.create()
    serverIdentity = new WorkloadIdentity(await pki.credentials(PAYMENTS))
    server = new Server()
    const answer = (call: ServerUnaryCall<unknown, unknown>, callback: (err: null, value: Answer) => void) => {
      callback(null, { caller: grpcPeerId(call).uri, serial: call.getAuthContext().sslPeerCertificate?.serialNumber ?? '' })
    }
    server.addService(PaymentService, { GetPayment: answer, Refund: answer })
    const credentials = mtlsServerCredentials(serverIdentity, {
      allow: [ORDERS, ADMIN],
      methods: { '/demo.PaymentService/Refund': [ADMIN] },
      onRefusal: (reason, details) => refusals.push({ code: reason.code, route: details.route }),
    })
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('localhost:0', credentials, (err, bound) => {
        if (err) reject(err)
        else resolve(bound)
      })
    })
    target = `localhost:${port}`
  })
  afterAll(async () => {
    for (const client of clients) client.close()
    await new Promise<void>((resolve) => {
      server.tryShutdown(() => {
        resolve()
      })
    })
    pki.cleanup()
  })

  it('answers a workload on the allow-list, and tells the handler who called', async () => {
    const orders = new WorkloadIdentity(await pki.credentials(ORDERS))
    expect(await call(clientFor(orders), 'GetPayment')).toMatchObject({ caller: ORDERS })
  })

  it('refuses, with PERMISSION_DENIED and a reported reason, a workload not on the allow-list', async () => {
    refusals.length = 0
    const intruder = new WorkloadIdentity(await pki.credentials(INTRUDER))
    await expect(call(clientFor(intruder), 'GetPayment')).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: `${INTRUDER} is not allowed on /demo.PaymentService/GetPayment` })
    expect(refusals).toEqual([{ code: 'ERR_PEER_NOT_ALLOWED', route: '/demo.PaymentService/GetPayment' }])
  })

  it('narrows the allow-list per method', async () => {
    refusals.length = 0
    const orders = clientFor(new WorkloadIdentity(await pki.credentials(ORDERS)))
    await expect(call(orders, 'Refund')).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: `${ORDERS} is not allowed on /demo.PaymentService/Refund` })
    expect(refusals).toEqual([{ code: 'ERR_PEER_NOT_ALLOWED', route: '/demo.PaymentService/Refund' }])
    expect(await call(clientFor(new WorkloadIdentity(await pki.credentials(ADMIN))), 'Refund')).toMatchObject({ caller: ADMIN })
  })

  it('fails the handshake of a client whose certificate comes from another CA', async () => {
    const otherCa = await pki.otherCa()
    const stranger = new WorkloadIdentity({ ...(await pki.issue(ORDERS, { ca: otherCa })), trustBundlePem: pki.trustBundlePem })
    await expect(call(clientFor(stranger), 'GetPayment')).rejects.toMatchObject({ code: status.UNAVAILABLE })
  })

  it('refuses, on the client side, a server whose SPIFFE ID is not the expected one', async () => {
    const orders = new WorkloadIdentity(await pki.credentials(ORDERS))
    const seen: PeerRefusalCode[] = []
    const client = new PaymentClient(target, mtlsChannelCredentials(orders, { expect: ['spiffe://example.org/ns/shop/sa/inventory'], onRefusal: (reason) => seen.push(reason.code) }))
    clients.push(client)
    await expect(call(client, 'GetPayment')).rejects.toMatchObject({ code: status.UNAVAILABLE, details: expect.stringContaining(`${PAYMENTS} is not allowed`) as unknown })
    expect(seen).toContain('ERR_PEER_NOT_ALLOWED')
  })

  it('reloads certificates on both ends without a restart', { timeout: 15_000 }, async () => {
    const ttlSec = 2
    const renew = (identity: WorkloadIdentity) => async (csr: string) => (await pki.ca.issue({ csr, identity: identity.spiffeId.uri, ttlSec })).chainPem
    // The server swaps to a short-lived certificate, then keeps renewing it.
    serverIdentity.update({ ...serverIdentity.credentials, ...(await pki.issue(PAYMENTS, { ttlSec })) })
    const orders = new WorkloadIdentity(await pki.credentials(ORDERS, { ttlSec }))
    const errors: string[] = []
    const agents = [serverIdentity, orders].map((identity) => new RotationAgent({ identity, renew: renew(identity), onError: (err) => errors.push(err.message) }).start())
    try {
      const longLived = clientFor(orders)
      const seen = new Set<string>()
      const end = Date.now() + 3_500
      while (Date.now() < end) {
        // A new channel (new connection) each time, and one kept open throughout.
        for (const client of [clientFor(orders), longLived]) seen.add((await call(client, 'GetPayment')).serial)
        await new Promise((resolve) => setTimeout(resolve, 150))
      }
      // Calls made after the first server certificate expired succeeded: the server reloaded.
      expect(errors).toEqual([])
      expect(seen.size).toBeGreaterThanOrEqual(2)
    } finally {
      for (const agent of agents) agent.stop()
    }
  })
})
