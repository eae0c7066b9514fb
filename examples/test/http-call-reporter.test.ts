import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CallReporter, type CallEvent } from '../src/runtime/call-reporter.js'

interface Received {
  method: string | undefined
  url: string | undefined
  headers: IncomingHttpHeaders
  body: { client_id?: string; events: CallEvent[] }
}

const event = (n: number, decision: CallEvent['decision'] = 'allow'): CallEvent => ({
  ts: 1_700_000_000_000 + n,
  decision,
  service: 'api-b',
  caller: 'api-a',
  subject: 'demo-reader',
  act: null,
  method: 'GET',
  path: '/inventory',
  ...(decision === 'deny' && { reason: 'ERR_INSUFFICIENT_SCOPE' }),
})

/** The reporter against a tiny HTTP server that keeps what it is sent. */
describe('CallReporter', () => {
  let server: Server
  let auditUri = ''
  let status = 202
  const received: Received[] = []
  const debug: string[] = []
  const log = {
    debug: (_details: Record<string, unknown>, message: string) => {
      debug.push(message)
    },
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = ''
      req.on('data', (chunk: Buffer) => (text += chunk.toString()))
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, headers: req.headers, body: JSON.parse(text) as Received['body'] })
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    auditUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit/events`
  })
  afterAll(() => {
    server.close()
  })
  beforeEach(() => {
    received.length = 0
    debug.length = 0
    status = 202
  })

  it('posts the events as JSON, authenticated as the service with client_secret_basic', async () => {
    const reporter = new CallReporter({ service: 'api-b', auditUri, clientSecret: 'a secret:with/odd chars', log, flushIntervalMs: 60_000 })
    reporter.report(event(1))
    reporter.report(event(2, 'deny'))
    await reporter.close()
    expect(received).toHaveLength(1)
    expect(received[0]).toMatchObject({ method: 'POST', url: '/audit/events', headers: { 'content-type': 'application/json' }, body: { events: [event(1), event(2, 'deny')] } })
    expect(received[0]!.body.client_id).toBeUndefined()
    // RFC 6749 §2.3.1: form-urlencoded, then joined and base64-encoded.
    expect(received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('api-b:a+secret%3Awith%2Fodd+chars').toString('base64')}`)
  })

  it('names the client in the body, with no secret, for tls_client_auth', async () => {
    const reporter = new CallReporter({ service: 'api-b', auditUri, log, flushIntervalMs: 60_000 })
    reporter.report(event(1))
    await reporter.close()
    expect(received[0]!.headers.authorization).toBeUndefined()
    expect(received[0]!.body).toEqual({ client_id: 'api-b', events: [event(1)] })
  })

  it('sends at most 500 events a request', async () => {
    const reporter = new CallReporter({ service: 'api-b', auditUri, clientSecret: 's', log, flushIntervalMs: 60_000 })
    for (let n = 0; n < 1_201; n += 1) reporter.report(event(n))
    await reporter.close()
    expect(received.map((request) => request.body.events.length)).toEqual([500, 500, 201])
    expect(received.flatMap((request) => request.body.events.map((e) => e.ts))).toEqual(Array.from({ length: 1_201 }, (_, n) => event(n).ts))
  })

  it('sends on its own about every flush interval', async () => {
    const reporter = new CallReporter({ service: 'api-b', auditUri, clientSecret: 's', log, flushIntervalMs: 20 })
    reporter.report(event(1))
    await expect.poll(() => received.length, { timeout: 2_000, interval: 10 }).toBe(1)
    await reporter.close()
  })

  it('drops a batch the endpoint refuses, with a debug line, and goes on', async () => {
    status = 401
    const reporter = new CallReporter({ service: 'api-b', auditUri, clientSecret: 'wrong', log, flushIntervalMs: 60_000 })
    reporter.report(event(1))
    await reporter.flush()
    status = 202
    reporter.report(event(2))
    await reporter.close()
    expect(received.map((request) => request.body.events.map((e) => e.ts))).toEqual([[event(1).ts], [event(2).ts]])
    expect(debug).toContain('call reports refused')
  })

  it('drops events, with a debug line, when the endpoint cannot be reached', async () => {
    const reporter = new CallReporter({ service: 'api-b', auditUri: 'http://127.0.0.1:1/audit/events', clientSecret: 's', log, flushIntervalMs: 60_000 })
    reporter.report(event(1))
    await expect(reporter.close()).resolves.toBeUndefined()
    expect(debug).toContain('call reports not delivered')
  })

  it('reports nothing, with a debug line, without an auditUri', async () => {
    const reporter = new CallReporter({ service: 'api-b', auditUri: undefined, clientSecret: 's', log })
    reporter.report(event(1))
    await reporter.close()
    expect(received).toHaveLength(0)
    expect(debug).toEqual(['call reports are off: no auditUri'])
  })
})
