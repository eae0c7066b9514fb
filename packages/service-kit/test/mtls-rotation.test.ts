import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request, type Agent } from 'undici'
import { createMtlsAgent, mtlsServerOptions, PeerAuthorizer, rotateServerCredentials, RotationAgent, WorkloadIdentity } from '../src/tls/index.js'
import { TestPki } from './helpers/test-pki.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'
/** Certificates live this long; both ends renew at 60% of it, every ~1.8 s. */
const TTL_SEC = 3
const RUN_MS = 8_000

describe('rotation under continuous load', () => {
  let pki: TestPki
  let server: Server
  let url: string
  let client: Agent
  const agents: RotationAgent[] = []
  const problems: string[] = []
  /** Serial numbers of the server certificates the client saw on its new connections. */
  const serverSerials = new Set<string>()
  /** Serial numbers of the client certificates the server saw on requests. */
  const clientSerials = new Set<string>()
  let connections = 0
  const onConnected = (message: unknown) => {
    connections += 1
    serverSerials.add((message as { socket: TLSSocket }).socket.getPeerCertificate().serialNumber)
  }

  const rotate = (identity: WorkloadIdentity) => {
    const agent = new RotationAgent({
      identity,
      renew: async (csr) => (await pki.ca.issue({ csr, identity: identity.spiffeId.uri, ttlSec: TTL_SEC })).chainPem,
      onError: (err) => problems.push(`renewal: ${err.message}`),
    })
    agents.push(agent.start())
    return agent
  }

  beforeAll(async () => {
    pki = await TestPki.create()
    const serverIdentity = new WorkloadIdentity(await pki.credentials(PAYMENTS, { ttlSec: TTL_SEC }))
    const clientIdentity = new WorkloadIdentity(await pki.credentials(ORDERS, { ttlSec: TTL_SEC }))
    const peers = new PeerAuthorizer({ trustDomain: 'example.org', allow: [ORDERS], onRefusal: (reason) => problems.push(`refusal: ${reason.message}`) })
    server = createServer(mtlsServerOptions(serverIdentity), (req, res) => {
      const caller = peers.authorize(req.socket)
      if (req.socket instanceof TLSSocket) clientSerials.add(req.socket.getPeerCertificate().serialNumber)
      // Requests stay in flight for a while, so that rotations happen under them.
      setTimeout(() => res.end(caller.uri), 5)
    })
    peers.attach(server)
    rotateServerCredentials(server, serverIdentity)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`
    rotate(serverIdentity)
    rotate(clientIdentity)
    client = createMtlsAgent(clientIdentity, { expect: [PAYMENTS] })
    subscribe('undici:client:connected', onConnected)
  })
  afterAll(async () => {
    unsubscribe('undici:client:connected', onConnected)
    for (const agent of agents) agent.stop()
    await client.close()
    await new Promise((resolve) => server.close(resolve))
    pki.cleanup()
  })

  it('renews both certificates many times with zero failed requests', { timeout: RUN_MS + 10_000 }, async () => {
    const end = Date.now() + RUN_MS
    let ok = 0
    /** Requests on kept-alive connections, and (with `reset`) each on a new connection. */
    const loop = async (reset: boolean) => {
      while (Date.now() < end) {
        try {
          const response = await request(url, { dispatcher: client, reset })
          const body = await response.body.text()
          if (response.statusCode === 200 && body === ORDERS) ok += 1
          else problems.push(`request: ${response.statusCode} ${body}`)
        } catch (err) {
          problems.push(`request: ${err instanceof Error ? err.message : String(err)}`)
        }
      }
    }
    await Promise.all([loop(false), loop(false), loop(false), loop(true), loop(true)])

    expect(problems).toEqual([])
    expect(ok).toBeGreaterThan(100)
    expect(connections).toBeGreaterThan(10)
    // Each end went through several certificates while the load ran.
    expect(serverSerials.size).toBeGreaterThanOrEqual(3)
    expect(clientSerials.size).toBeGreaterThanOrEqual(3)
  })
})
