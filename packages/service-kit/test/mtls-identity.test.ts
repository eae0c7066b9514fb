import { X509Certificate } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RotationAgent, WorkloadIdentity, type RotationClock, type WorkloadCredentials } from '../src/tls/index.js'
import { TestPki } from './helpers/test-pki.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'

/** A clock that moves only when told, firing the timers that fall due. */
class ManualClock implements RotationClock {
  #now = Date.now()
  #timers = new Map<number, { at: number; callback: () => void }>()
  #next = 0

  now(): number {
    return this.#now
  }
  setTimeout(callback: () => void, ms: number): number {
    this.#timers.set(++this.#next, { at: this.#now + ms, callback })
    return this.#next
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number)
  }
  advance(ms: number): void {
    this.#now += ms
    for (const [handle, timer] of [...this.#timers]) {
      if (timer.at > this.#now) continue
      this.#timers.delete(handle)
      timer.callback()
    }
  }
}

const serialOf = (chainPem: string) => new X509Certificate(chainPem).serialNumber.toLowerCase()

describe('a workload identity', () => {
  let pki: TestPki
  let orders: WorkloadCredentials

  beforeAll(async () => {
    pki = await TestPki.create()
    orders = await pki.credentials(ORDERS)
  })
  afterAll(() => {
    pki.cleanup()
  })

  it('takes its SPIFFE ID from the one URI SAN of its certificate', () => {
    const identity = new WorkloadIdentity(orders)
    expect(identity.spiffeId).toEqual({ trustDomain: 'example.org', path: '/ns/shop/sa/orders', uri: ORDERS })
    expect(identity.certificate.serialNumber.toLowerCase()).toBe(serialOf(orders.certificateChainPem))
    expect(Object.isFrozen(identity.credentials)).toBe(true)
  })

  it('loads from PEM files', async () => {
    const files = {
      certificateChain: pki.openssl.write('orders.pem', orders.certificateChainPem),
      privateKey: pki.openssl.write('orders.key', orders.privateKeyPem),
      trustBundle: pki.openssl.write('bundle.pem', orders.trustBundlePem),
    }
    expect((await WorkloadIdentity.fromFiles(files)).spiffeId.uri).toBe(ORDERS)
  })

  const refusals: Array<[string, () => WorkloadCredentials | Promise<WorkloadCredentials>, RegExp]> = [
    ['a certificate with two URI SANs', () => ({ ...orders, ...pki.opensslLeaf(ORDERS, { subjectAltName: `URI:${ORDERS},URI:${PAYMENTS}` }) }), /exactly one URI SAN \(its SPIFFE ID\), not 2/],
    ['a certificate without a URI SAN', () => ({ ...orders, ...pki.opensslLeaf(ORDERS, { subjectAltName: 'DNS:orders.shop.svc' }) }), /not 0/],
    ['a URI SAN that is not a SPIFFE ID', () => ({ ...orders, ...pki.opensslLeaf('https://orders.example.org/') }), /not a SPIFFE ID/],
    ['the trust domain as its ID', () => ({ ...orders, ...pki.opensslLeaf('spiffe://example.org') }), /names a trust domain, not a workload/],
    ['a key that is not the certificate\'s', async () => ({ ...orders, privateKeyPem: (await pki.issue(ORDERS)).privateKeyPem }), /do not load: .*key values mismatch/],
    ['no trust bundle', () => ({ ...orders, trustBundlePem: '' }), /trustBundlePem must be a PEM string/],
    ['a CRL that is not one', () => ({ ...orders, crlPem: 'not a CRL' }), /crlPem must be PEM CRLs/],
  ]

  it.each(refusals)('refuses %s', async (_name, make, reason) => {
    const credentials = await make()
    expect(() => new WorkloadIdentity(credentials)).toThrow(reason)
  })

  it('swaps its credentials on update and tells its listeners, but never for another SPIFFE ID', async () => {
    const identity = new WorkloadIdentity(orders)
    const seen: string[] = []
    const stop = identity.onUpdate((credentials) => seen.push(serialOf(credentials.certificateChainPem)))
    const next = await pki.credentials(ORDERS)
    identity.update(next)
    expect(seen).toEqual([serialOf(next.certificateChainPem)])
    expect(identity.credentials.certificateChainPem).toBe(next.certificateChainPem)

    const payments = await pki.credentials(PAYMENTS)
    expect(() => {
      identity.update(payments)
    }).toThrow(/is for spiffe:\/\/example\.org\/ns\/shop\/sa\/payments, not spiffe:\/\/example\.org\/ns\/shop\/sa\/orders/)
    expect(identity.credentials.certificateChainPem).toBe(next.certificateChainPem)
    stop()
    identity.update(orders)
    expect(seen).toHaveLength(1)
  })
})

describe('the rotation agent', () => {
  let pki: TestPki

  beforeAll(async () => {
    pki = await TestPki.create()
  })
  afterAll(() => {
    pki.cleanup()
  })

  /** The CA's renewal wired in-process, counting the CSRs it is sent. */
  const renewer = (ttlSec: number) => {
    const csrs: string[] = []
    return {
      csrs,
      renew: async (csr: string) => {
        csrs.push(csr)
        return (await pki.ca.issue({ csr, identity: ORDERS, ttlSec })).chainPem
      },
    }
  }

  it('renews at 60% of the lifetime (counted from arrival, as CAs backdate notBefore), with a new key', async () => {
    const clock = new ManualClock()
    const identity = new WorkloadIdentity(await pki.credentials(ORDERS, { ttlSec: 100 }))
    const first = identity.credentials
    const ca = renewer(100)
    const renewed: string[] = []
    const agent = new RotationAgent({ identity, renew: ca.renew, clock, onError: () => undefined, onRenewed: (serial) => renewed.push(serial) }).start()
    const notAfter = Date.parse(identity.certificate.validTo)
    expect(agent.nextAttemptAt).toBe(clock.now() + 0.6 * (notAfter - clock.now()))

    clock.advance(0.59 * 100_000)
    expect(ca.csrs).toHaveLength(0)
    clock.advance(0.02 * 100_000)
    expect(await agent.renewNow()).toBe(true)
    expect(ca.csrs).toHaveLength(1)
    expect(renewed).toEqual([identity.certificate.serialNumber.toLowerCase()])
    expect(identity.credentials.privateKeyPem).not.toBe(first.privateKeyPem)
    expect(identity.credentials.trustBundlePem).toBe(first.trustBundlePem)
    // The next renewal is timed from the new certificate, from when it arrived.
    expect(agent.nextAttemptAt).toBe(clock.now() + 0.6 * (Date.parse(identity.certificate.validTo) - clock.now()))
    agent.stop()
    expect(agent.nextAttemptAt).toBeUndefined()
  })

  it('takes another fraction when told', async () => {
    const clock = new ManualClock()
    const identity = new WorkloadIdentity(await pki.credentials(ORDERS, { ttlSec: 1000 }))
    const agent = new RotationAgent({ identity, renew: renewer(1000).renew, clock, renewAtFraction: 0.25, onError: () => undefined }).start()
    expect(agent.nextAttemptAt).toBe(clock.now() + 0.25 * (Date.parse(identity.certificate.validTo) - clock.now()))
    agent.stop()
  })

  it('keeps the current certificate while the CA is down, warns, and retries with backoff', async () => {
    const clock = new ManualClock()
    const identity = new WorkloadIdentity(await pki.credentials(ORDERS, { ttlSec: 100 }))
    const before = identity.credentials
    const ca = renewer(100)
    let down = 3
    const warnings: Array<{ message: string; attempt: number; retryInMs: number }> = []
    const agent = new RotationAgent({
      identity,
      renew: (csr) => (down-- > 0 ? Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:8443')) : ca.renew(csr)),
      clock,
      retryInitialDelayMs: 500,
      retryMaxDelayMs: 1_500,
      onError: (err, retry) => warnings.push({ message: err.message, ...retry }),
    }).start()

    clock.advance(60_000)
    expect(await agent.renewNow()).toBe(false)
    expect(identity.credentials).toBe(before)
    for (const delay of [500, 1_000]) {
      clock.advance(delay)
      expect(await agent.renewNow()).toBe(false)
      expect(identity.credentials).toBe(before)
    }
    expect(warnings).toEqual([
      { message: 'connect ECONNREFUSED 10.0.0.1:8443', attempt: 1, retryInMs: 500 },
      { message: 'connect ECONNREFUSED 10.0.0.1:8443', attempt: 2, retryInMs: 1_000 },
      { message: 'connect ECONNREFUSED 10.0.0.1:8443', attempt: 3, retryInMs: 1_500 },
    ])
    expect(agent.nextAttemptAt).toBe(clock.now() + 1_500)
    clock.advance(1_500)
    expect(await agent.renewNow()).toBe(true)
    expect(identity.credentials).not.toBe(before)
    agent.stop()
  })

  it('refuses, and retries, an answer for another identity or an expired certificate', async () => {
    const clock = new ManualClock()
    const identity = new WorkloadIdentity(await pki.credentials(ORDERS))
    const before = identity.credentials
    const errors: string[] = []
    const answers = [
      async () => (await pki.issue(PAYMENTS)).certificateChainPem,
      async (csr: string) => (await (await pki.shiftedCa(-3_600_000)).issue({ csr, identity: ORDERS, ttlSec: 60 })).chainPem,
    ]
    const agent = new RotationAgent({ identity, renew: (csr) => answers.shift()!(csr), clock, onError: (err) => errors.push(err.message) }).start()
    expect(await agent.renewNow()).toBe(false)
    expect(await agent.renewNow()).toBe(false)
    expect(errors).toEqual([expect.stringMatching(/is for spiffe:\/\/example\.org\/ns\/shop\/sa\/payments/), 'the CA answered with a certificate that has already expired'])
    expect(identity.credentials).toBe(before)
    agent.stop()
  })

  it('renews on demand before it is started, and leaves the identity alone when stopped mid-renewal', async () => {
    const identity = new WorkloadIdentity(await pki.credentials(ORDERS))
    const ca = renewer(100)
    const agent = new RotationAgent({ identity, renew: ca.renew, clock: new ManualClock(), onError: () => undefined })
    const before = identity.credentials
    expect(await agent.renewNow()).toBe(true)
    expect(identity.credentials).not.toBe(before)
    expect(agent.nextAttemptAt).toBeUndefined()

    const during = identity.credentials
    const pending = agent.start().renewNow()
    agent.stop()
    expect(await pending).toBe(false)
    expect(identity.credentials).toBe(during)
  })

  it('warns through a pino-like logger', async () => {
    const clock = new ManualClock()
    const identity = new WorkloadIdentity(await pki.credentials(ORDERS))
    const lines: Array<[Record<string, unknown>, string]> = []
    const agent = new RotationAgent({ identity, renew: () => Promise.reject(new Error('CA down')), clock, log: { warn: (details, message) => lines.push([details, message]) } }).start()
    await agent.renewNow()
    expect(lines).toEqual([[expect.objectContaining({ attempt: 1, retryInMs: 1_000, spiffeId: ORDERS }), 'could not renew the workload certificate; keeping the current one and retrying in 1000 ms']])
    agent.stop()
  })

  it('refuses options it cannot honour', async () => {
    const identity = new WorkloadIdentity(await pki.credentials(ORDERS))
    const renew = () => Promise.resolve('')
    expect(() => new RotationAgent({ identity, renew })).toThrow(/pass onError or log/)
    expect(() => new RotationAgent({ identity, renew, onError: () => undefined, renewAtFraction: 1 })).toThrow(/between 0 and 1/)
    expect(() => new RotationAgent({ identity, renew, onError: () => undefined, retryInitialDelayMs: 2_000, retryMaxDelayMs: 1_000 })).toThrow(/at least retryInitialDelayMs/)
  })
})
