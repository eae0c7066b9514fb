import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as client from 'openid-client'
import { createRemoteJWKSet, generateKeyPair, exportJWK, jwtVerify, decodeProtectedHeader } from 'jose'
import { TOKEN_EXCHANGE_GRANT, tokenTypes } from '../src/index.js'
import { startTestServer, type TestServer } from './helpers/test-server.js'

/**
 * panva's openid-client, a client library written elsewhere, against a running server:
 * discovery, client credentials (secret and private_key_jwt), introspection, revocation and
 * token exchange; tokens checked by jose from the published JWKS.
 */
describe('interoperability with openid-client', () => {
  let ts: TestServer
  const secrets: Record<string, string> = {}
  let jwtClientKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

  beforeAll(async () => {
    ts = await startTestServer()
    await ts.resource('orders-api', ['orders.read', 'orders.write'])
    await ts.resource('payments-api', ['payments.write'])
    secrets.web = (await ts.client({ id: 'web', scopes: ['orders.read', 'orders.write', 'payments.write'] }))!
    secrets['orders-api'] = (await ts.client({
      id: 'orders-api',
      scopes: ['payments.write'],
      grantTypes: ['client_credentials', TOKEN_EXCHANGE_GRANT],
    }))!
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    jwtClientKey = privateKey
    await ts.client({ id: 'batch', scopes: ['orders.read'], jwks: [{ ...(await exportJWK(publicKey)), kid: 'batch-1', alg: 'ES256' }] })
  })
  afterAll(async () => {
    await ts.stop()
    ts.cleanup()
  })

  async function configFor(id: string, auth: client.ClientAuth): Promise<client.Configuration> {
    // Plain http is loopback-only here; the server refuses an http issuer anywhere else.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    return client.discovery(new URL(ts.issuer), id, undefined, auth, { execute: [client.allowInsecureRequests] })
  }

  it('discovers the server: exact issuer and every endpoint advertised', async () => {
    const config = await configFor('web', client.ClientSecretBasic(secrets.web))
    const metadata = config.serverMetadata()
    expect(metadata.issuer).toBe(ts.issuer)
    expect(metadata.token_endpoint).toBe(ts.tokenEndpoint)
    expect(metadata.jwks_uri).toBe(ts.jwksUri)
    expect(metadata.introspection_endpoint).toBe(ts.introspectionEndpoint)
    expect(metadata.revocation_endpoint).toBe(ts.revocationEndpoint)
    expect(metadata.grant_types_supported).toEqual(['client_credentials', TOKEN_EXCHANGE_GRANT, 'authorization_code', 'refresh_token'])
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
  })

  it('publishes only public keys in the JWKS', async () => {
    const jwks = (await (await fetch(ts.jwksUri)).json()) as { keys: Record<string, unknown>[] }
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2)
    for (const key of jwks.keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member)
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
    }
  })

  it.each([
    ['client_secret_basic', () => client.ClientSecretBasic(secrets.web)],
    ['client_secret_post', () => client.ClientSecretPost(secrets.web)],
  ])('issues a client-credentials token with %s that jose verifies from the JWKS', async (_name, auth) => {
    const config = await configFor('web', auth())
    const response = await client.clientCredentialsGrant(config, { scope: 'orders.read payments.write' })
    expect(response.token_type).toBe('bearer')
    expect(response.refresh_token).toBeUndefined()
    expect(response.expires_in).toBe(600)
    expect(response.scope).toBe('orders.read payments.write')

    const { payload, protectedHeader } = await jwtVerify(response.access_token, createRemoteJWKSet(new URL(ts.jwksUri)), {
      issuer: ts.issuer,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    })
    expect(protectedHeader.kid).toEqual(expect.any(String))
    expect(payload).toMatchObject({ sub: 'web', client_id: 'web', scope: 'orders.read payments.write', aud: ['orders-api', 'payments-api'] })
    expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'nbf', 'scope', 'sub'])
  })

  it('authenticates a private_key_jwt client', async () => {
    const config = await configFor('batch', client.PrivateKeyJwt(jwtClientKey, { [client.modifyAssertion]: (header) => { header.kid = 'batch-1' } }))
    const response = await client.clientCredentialsGrant(config)
    const { payload } = await jwtVerify(response.access_token, createRemoteJWKSet(new URL(ts.jwksUri)), { issuer: ts.issuer, audience: 'orders-api' })
    expect(payload.sub).toBe('batch')
  })

  it('introspects an active token and, after revocation, exactly {"active":false}', async () => {
    const config = await configFor('web', client.ClientSecretBasic(secrets.web))
    const { access_token: token } = await client.clientCredentialsGrant(config, { scope: 'orders.read' })
    const active = await client.tokenIntrospection(config, token)
    expect(active).toMatchObject({ active: true, sub: 'web', client_id: 'web', scope: 'orders.read', aud: 'orders-api', token_type: 'Bearer', iss: ts.issuer })

    await client.tokenRevocation(config, token)
    const raw = await fetch(ts.introspectionEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${secrets.web}`).toString('base64')}` },
      body: new URLSearchParams({ token }),
    })
    expect(await raw.text()).toBe('{"active":false}')
  })

  it('exchanges a token with genericGrantRequest: act names the caller, scope narrows, lifetime is capped', async () => {
    const web = await configFor('web', client.ClientSecretBasic(secrets.web))
    const { access_token: subjectToken } = await client.clientCredentialsGrant(web, { scope: 'orders.write payments.write' })
    const orders = await configFor('orders-api', client.ClientSecretBasic(secrets['orders-api']))
    const exchanged = await client.genericGrantRequest(orders, TOKEN_EXCHANGE_GRANT, {
      subject_token: subjectToken,
      subject_token_type: tokenTypes.accessToken,
      audience: 'payments-api',
      scope: 'payments.write',
    })
    expect(exchanged.issued_token_type).toBe(tokenTypes.accessToken)
    expect(exchanged.refresh_token).toBeUndefined()
    const { payload } = await jwtVerify(exchanged.access_token, createRemoteJWKSet(new URL(ts.jwksUri)), {
      issuer: ts.issuer,
      audience: 'payments-api',
      typ: 'at+jwt',
    })
    const subject = await jwtVerify(subjectToken, createRemoteJWKSet(new URL(ts.jwksUri)))
    expect(payload).toMatchObject({ sub: 'web', client_id: 'orders-api', scope: 'payments.write', act: { sub: 'orders-api' } })
    expect(payload.exp).toBeLessThanOrEqual(subject.payload.exp!)
    expect(decodeProtectedHeader(exchanged.access_token).typ).toBe('at+jwt')
  })
})
