import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { TLSSocket } from 'node:tls'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMtlsAgent, tlsServerOptions, WorkloadIdentity } from '../src/tls/index.js'
import { TestPki } from './helpers/test-pki.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'

/** The medium tier's server: TLS with the workload's certificate, no client certificate asked for. */
describe('a TLS server from tlsServerOptions', () => {
  let pki: TestPki
  let server: Server
  let url = ''

  beforeAll(async () => {
    pki = await TestPki.create()
    const identity = new WorkloadIdentity(await pki.credentials(PAYMENTS))
    server = createServer(tlsServerOptions(identity), (req, res) => {
      const socket = req.socket
      if (!(socket instanceof TLSSocket)) throw new Error('not TLS')
      res.end(JSON.stringify({ protocol: socket.getProtocol(), clientCertificate: socket.getPeerX509Certificate() !== undefined }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  afterAll(() => {
    server.close()
    pki.cleanup()
  })

  it('serves a client that checks its SPIFFE ID, without asking for a client certificate', async () => {
    const dispatcher = createMtlsAgent(new WorkloadIdentity(await pki.credentials(ORDERS)), { expect: [PAYMENTS] })
    const response = await request(url, { dispatcher })
    expect(await response.body.json()).toEqual({ protocol: 'TLSv1.3', clientCertificate: false })
    await dispatcher.close()
  })

  it('is refused by a client that expects another server', async () => {
    const dispatcher = createMtlsAgent(new WorkloadIdentity(await pki.credentials(ORDERS)), { expect: [ORDERS] })
    await expect(request(url, { dispatcher })).rejects.toMatchObject({ code: 'ERR_PEER_NOT_ALLOWED' })
    await dispatcher.close()
  })
})
