import { describe, expect, it } from 'vitest'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { basic, postForm, startTestServer } from './helpers/test-server.js'

/** Each selectable signing algorithm, end to end: keys generated, published, used and verified by jose. */
describe.each([
  ['ES256', { kty: 'EC', crv: 'P-256' }],
  ['RS256', { kty: 'RSA' }],
  ['EdDSA', { kty: 'OKP', crv: 'Ed25519' }],
] as const)('a server signing with %s', (alg, keyShape) => {
  it('publishes a matching public key and issues tokens jose verifies', async () => {
    const ts = await startTestServer({ config: { signing: { algorithm: alg } } })
    try {
      await ts.resource('api', ['api.read'])
      const secret = (await ts.client({ id: 'svc', scopes: ['api.read'] }))!
      const jwks = (await (await fetch(ts.jwksUri)).json()) as { keys: Array<Record<string, unknown>> }
      for (const key of jwks.keys) {
        expect(key).toMatchObject({ ...keyShape, alg, use: 'sig' })
        if (alg === 'RS256') expect(Buffer.from(key.n as string, 'base64url').length * 8).toBeGreaterThanOrEqual(2048)
      }
      const token = (await postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('svc', secret) })).body.access_token as string
      expect(decodeProtectedHeader(token)).toMatchObject({ alg, typ: 'at+jwt' })
      const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(ts.jwksUri)), { issuer: ts.issuer, algorithms: [alg], currentDate: new Date(ts.clock.now()) })
      expect(payload).toMatchObject({ sub: 'svc', aud: 'api' })
      expect((await ts.server.app.inject('/.well-known/openid-configuration')).json()).toMatchObject({ id_token_signing_alg_values_supported: [alg] })
    } finally {
      await ts.stop()
      ts.cleanup()
    }
  })
})
