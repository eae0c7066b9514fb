import { afterEach, describe, expect, it } from 'vitest'
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet } from 'jose'
import { basic, postForm, startTestServer, type TestServer } from './helpers/test-server.js'

describe('signing key rotation', () => {
  let ts: TestServer
  let secret: string

  async function start(): Promise<void> {
    ts = await startTestServer({ config: { signing: { rotationIntervalSec: 3600, publishAheadSec: 600 }, tokens: { accessTokenTtlSec: 600, maxAccessTokenTtlSec: 900 } } })
    await ts.resource('api', ['api.read'])
    secret = (await ts.client({ id: 'svc', scopes: ['api.read'] }))!
  }
  afterEach(async () => {
    await ts.stop()
    ts.cleanup()
  })

  const token = async () => (await postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('svc', secret) })).body.access_token as string
  const jwks = async () => (await (await fetch(ts.jwksUri)).json()) as JSONWebKeySet
  const kids = async () => (await jwks()).keys.map((key) => key.kid)
  const verify = async (jwt: string) =>
    jwtVerify(jwt, createLocalJWKSet(await jwks()), { issuer: ts.issuer, typ: 'at+jwt', currentDate: new Date(ts.clock.now()) })
  const introspect = async (jwt: string) => (await postForm(ts.introspectionEndpoint, { token: jwt }, { authorization: basic('svc', secret) })).body

  it('publishes the next key before it signs, and keeps the old key until its tokens expire', async () => {
    await start()
    const keys = ts.server.context.keys
    const before = await token()
    const oldKid = decodeProtectedHeader(before).kid!
    const nextKid = keys.records().find((key) => key.state === 'next')!.kid
    expect(await kids()).toEqual(expect.arrayContaining([oldKid, nextKid]))

    // Not yet due: nothing changes.
    ts.clock.advance(1800)
    expect(await keys.rotate('scheduled')).toBe(false)
    ts.clock.advance(1800)
    expect(await keys.rotate('scheduled')).toBe(true)

    const after = await token()
    expect(decodeProtectedHeader(after).kid).toBe(nextKid)
    expect(await kids()).toEqual(expect.arrayContaining([oldKid, nextKid]))
    expect(keys.records().filter((key) => key.state === 'next')).toHaveLength(1)

    // Overlap: the token signed before the rotation still verifies and introspects.
    ts.clock.advance(-3600 + 300)
    await expect(verify(before)).resolves.toMatchObject({ payload: { sub: 'svc' } })
    ts.clock.advance(3600 - 300)
    ts.clock.advance(-3000)
    expect(await introspect(before)).toMatchObject({ active: true })
    ts.clock.advance(3000)

    // Once every token the old key signed has expired, it leaves the JWKS.
    ts.clock.advance(900 + 30)
    await keys.rotate('scheduled')
    expect(await kids()).not.toContain(oldKid)
  })

  it('refuses a manual rotation to a key published for less than publishAheadSec', async () => {
    await start()
    expect(await ts.server.context.keys.rotate('manual')).toBe(false)
    ts.clock.advance(600)
    expect(await ts.server.context.keys.rotate('manual')).toBe(true)
  })

  it('an emergency rotation drops the key at once: its tokens stop verifying', async () => {
    await start()
    const before = await token()
    const oldKid = decodeProtectedHeader(before).kid!
    await expect(verify(before)).resolves.toBeDefined()
    expect(await ts.server.context.keys.rotate('emergency')).toBe(true)

    expect(await kids()).not.toContain(oldKid)
    await expect(verify(before)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey)
    expect(await introspect(before)).toEqual({ active: false })
    const after = await token()
    expect(decodeProtectedHeader(after).kid).not.toBe(oldKid)
    await expect(verify(after)).resolves.toBeDefined()
    expect(await kids()).toHaveLength(2)
  })
})
