import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { mtlsChannelCredentials, mtlsServerCredentials } from '../src/tls/grpc.js'
import { createMtlsAgent, mtlsServerOptions, WorkloadIdentity, type PeerVerificationOptions } from '../src/tls/index.js'
import { TestPki } from './helpers/test-pki.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'

describe('refusing TLS set-ups that would not verify peers', () => {
  let pki: TestPki
  let identity: WorkloadIdentity
  const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED

  beforeAll(async () => {
    pki = await TestPki.create()
    identity = new WorkloadIdentity(await pki.credentials(ORDERS))
  })
  afterAll(() => {
    pki.cleanup()
  })
  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved
  })

  const builders: Array<[string, (options: PeerVerificationOptions) => unknown]> = [
    ['mtlsServerOptions', (options) => mtlsServerOptions(identity, options)],
    ['createMtlsAgent', (options) => createMtlsAgent(identity, { expect: [ORDERS], ...options })],
    ['mtlsServerCredentials', (options) => mtlsServerCredentials(identity, { allow: [ORDERS], onRefusal: () => undefined, ...options })],
    ['mtlsChannelCredentials', (options) => mtlsChannelCredentials(identity, { expect: [ORDERS], ...options })],
  ]
  const rows: Array<[string, PeerVerificationOptions, string | undefined, RegExp | undefined]> = [
    ['rejectUnauthorized: false', { rejectUnauthorized: false }, undefined, /rejectUnauthorized: false would accept peers whose certificates do not verify; only the low security tier may \(pass tier: 'low'\)/],
    ['rejectUnauthorized: false in the high tier', { rejectUnauthorized: false, tier: 'high' }, undefined, /rejectUnauthorized: false would accept .* only the low security tier may/],
    ['rejectUnauthorized: false in the medium tier', { rejectUnauthorized: false, tier: 'medium' }, undefined, /rejectUnauthorized: false would accept .* only the low security tier may/],
    ['NODE_TLS_REJECT_UNAUTHORIZED=0', {}, '0', /NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate checks off in this process; unset it, or pass tier: 'low'/],
    ['NODE_TLS_REJECT_UNAUTHORIZED=0 with rejectUnauthorized: true', { rejectUnauthorized: true }, '0', /NODE_TLS_REJECT_UNAUTHORIZED=0/],
    ['an unknown tier', { tier: 'lowest' as 'low' }, undefined, /tier must be 'low', 'medium' or 'high'/],
    ['rejectUnauthorized: false in the low tier', { rejectUnauthorized: false, tier: 'low' }, undefined, undefined],
    ['NODE_TLS_REJECT_UNAUTHORIZED=0 in the low tier', { tier: 'low' }, '0', undefined],
    ['the defaults', {}, undefined, undefined],
    ['NODE_TLS_REJECT_UNAUTHORIZED=1', {}, '1', undefined],
  ]

  for (const [builder, build] of builders) {
    it.each(rows)(`${builder}: %s`, (_name, options, env, refusal) => {
      if (env === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = env
      if (refusal === undefined) {
        expect(() => build(options)).not.toThrow()
      } else {
        expect(() => build(options)).toThrow(TypeError)
        expect(() => build(options)).toThrow(new RegExp(`^${builder}: ${refusal.source}`))
      }
    })
  }

  it('gives the low tier what it asked for, and every other tier verified peers', () => {
    expect(mtlsServerOptions(identity, { rejectUnauthorized: false, tier: 'low' })).toMatchObject({ requestCert: true, rejectUnauthorized: false })
    expect(mtlsServerOptions(identity)).toMatchObject({ requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', ca: pki.trustBundlePem })
  })
})
