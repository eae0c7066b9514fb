import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { TOKEN_EXCHANGE_GRANT, tokenTypes } from '../src/index.js'
import { basic, postForm, startTestServer, type OAuthResponse, type TestServer } from './helpers/test-server.js'

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

interface Row {
  name: string
  status: number
  error: string
  /** Where several checks share a code: the description that proves which one refused. */
  because?: RegExp
  /** Builds and sends the request. */
  send: () => Promise<OAuthResponse>
}

/**
 * Every refusal the token endpoint owes, one row per attack or mistake, each with its exact
 * status and RFC error code. The server keeps serving after each.
 */
describe('token endpoint refusals', () => {
  let ts: TestServer
  const secret: Record<string, string> = {}
  let assertionKey: CryptoKey
  let strangerKey: CryptoKey
  const tokens: Record<string, string> = {}

  const cc = (id: string, extra: Record<string, string | string[]> = {}) =>
    postForm(ts.tokenEndpoint, { grant_type: 'client_credentials', ...extra }, { authorization: basic(id, secret[id]!) })
  const exchange = (id: string, params: Record<string, string | string[]>) =>
    postForm(ts.tokenEndpoint, { grant_type: TOKEN_EXCHANGE_GRANT, ...params }, { authorization: basic(id, secret[id]!) })
  const assertion = (claims: Record<string, unknown>, key: CryptoKey = assertionKey) => {
    const now = Math.floor(ts.clock.now() / 1000)
    return new SignJWT({ iss: 'batch', sub: 'batch', aud: ts.issuer, jti: randomUUID(), iat: now, exp: now + 60, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'batch-1' })
      .sign(key)
  }
  const withAssertion = async (claims: Record<string, unknown>, key?: CryptoKey) =>
    postForm(ts.tokenEndpoint, {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: await assertion(claims, key),
    })

  beforeAll(async () => {
    ts = await startTestServer()
    await ts.resource('cart-service', ['cart.read'])
    await ts.resource('order-service', ['order.write'])
    await ts.resource('payment-service', ['payment.write'])
    await ts.resource('reports', ['reports.read'])
    const exchanger = ['client_credentials', TOKEN_EXCHANGE_GRANT]
    secret.web = (await ts.client({ id: 'web', scopes: ['cart.read', 'order.write', 'payment.write'] }))!
    secret['cart-service'] = (await ts.client({ id: 'cart-service', scopes: ['order.write', 'payment.write'], grantTypes: exchanger }))!
    secret['order-service'] = (await ts.client({ id: 'order-service', scopes: ['order.write', 'payment.write'], grantTypes: exchanger }))!
    secret.reports = (await ts.client({ id: 'reports', scopes: ['reports.read', 'order.write'], grantTypes: exchanger }))!
    secret['batch-job'] = (await ts.client({ id: 'batch-job', scopes: ['order.write'] }))!
    secret.mobile = (await ts.client({ id: 'mobile', scopes: ['order.write', 'cart.read'], mayAct: 'cart-service' }))!
    const pair = await generateKeyPair('ES256')
    assertionKey = pair.privateKey
    strangerKey = (await generateKeyPair('ES256')).privateKey
    await ts.client({ id: 'batch', scopes: ['reports.read'], jwks: [{ ...(await exportJWK(pair.publicKey)), kid: 'batch-1', alg: 'ES256' }] })

    const issue = async (id: string, scope: string) => (await cc(id, { scope })).body.access_token as string
    tokens.user = await issue('web', 'cart.read order.write payment.write')
    tokens.revoked = await issue('web', 'order.write')
    await postForm(ts.revocationEndpoint, { token: tokens.revoked }, { authorization: basic('web', secret.web) })
    tokens.mobile = await issue('mobile', 'order.write cart.read')
    tokens.reports = await issue('reports', 'reports.read')
    // An access token from another issuer: same shape, signed by a key this server never published.
    const now = Math.floor(ts.clock.now() / 1000)
    tokens.foreign = await new SignJWT({ sub: 'web', client_id: 'web', scope: 'order.write', aud: 'cart-service', jti: 'x', iat: now, nbf: now, exp: now + 300 })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'elsewhere' })
      .setIssuer('https://other-issuer.example')
      .sign(strangerKey)
    // A chain at the default cap of 4: web → cart-service → order-service ×3.
    let hop = (await exchange('cart-service', { subject_token: tokens.user, subject_token_type: tokenTypes.accessToken, scope: 'order.write' })).body.access_token as string
    for (let depth = 2; depth <= 4; depth += 1) {
      hop = (await exchange('order-service', { subject_token: hop, subject_token_type: tokenTypes.accessToken, audience: 'order-service' })).body.access_token as string
    }
    tokens.depth4 = hop
    tokens.expiring = await issue('web', 'order.write')
  })
  afterAll(async () => {
    await ts.stop()
    ts.cleanup()
  })

  const rows: Row[] = [
    // Client authentication (RFC 6749 §2.3, §5.2; RFC 7523 §3)
    { name: 'no client authentication', status: 401, error: 'invalid_client', send: () => postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }) },
    { name: 'unknown client', status: 401, error: 'invalid_client', send: () => postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('nobody', secret.web!) }) },
    { name: 'wrong secret', status: 401, error: 'invalid_client', send: () => postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('web', `${secret.web!}x`) }) },
    { name: 'wrong secret in the body', status: 401, error: 'invalid_client', send: () => postForm(ts.tokenEndpoint, { grant_type: 'client_credentials', client_id: 'web', client_secret: 'a'.repeat(43) }) },
    { name: 'both Basic and body credentials', status: 400, error: 'invalid_request', because: /more than one client authentication method/, send: () => cc('web', { client_id: 'web', client_secret: secret.web! }) },
    { name: 'client_id in the body differs from Basic', status: 400, error: 'invalid_request', because: /does not match/, send: () => cc('web', { client_id: 'batch-job' }) },
    { name: 'malformed Basic header', status: 401, error: 'invalid_client', send: () => postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: 'Basic !!!' }) },
    { name: 'private_key_jwt with the token endpoint of another server as aud', status: 401, error: 'invalid_client', because: /aud/, send: () => withAssertion({ aud: 'https://other.example/token' }) },
    { name: 'private_key_jwt expired', status: 401, error: 'invalid_client', because: /expired/, send: () => withAssertion({ exp: Math.floor(ts.clock.now() / 1000) - 120 }) },
    { name: 'private_key_jwt living too long', status: 401, error: 'invalid_client', because: /must expire within/, send: () => withAssertion({ exp: Math.floor(ts.clock.now() / 1000) + 3600 }) },
    { name: 'private_key_jwt without jti', status: 401, error: 'invalid_client', send: () => withAssertion({ jti: undefined }) },
    { name: 'private_key_jwt signed by an unregistered key', status: 401, error: 'invalid_client', because: /signature is invalid/, send: () => withAssertion({}, strangerKey) },
    {
      name: 'private_key_jwt replayed jti',
      status: 401,
      error: 'invalid_client',
      because: /jti has already been used/,
      send: async () => {
        const jwt = await assertion({ jti: 'once-only' })
        const first = await postForm(ts.tokenEndpoint, { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: jwt })
        expect(first.status).toBe(200)
        return postForm(ts.tokenEndpoint, { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: jwt })
      },
    },
    { name: 'wrong client_assertion_type', status: 401, error: 'invalid_client', send: async () => postForm(ts.tokenEndpoint, { grant_type: 'client_credentials', client_assertion_type: 'urn:x', client_assertion: await assertion({}) }) },
    { name: 'secret presented by a private_key_jwt client', status: 401, error: 'invalid_client', send: () => postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('batch', 'b'.repeat(43)) }) },

    // Request syntax (RFC 6749 §3.1, §3.2, §5.2)
    { name: 'missing grant_type', status: 400, error: 'invalid_request', send: () => postForm(ts.tokenEndpoint, {}, { authorization: basic('web', secret.web!) }) },
    { name: 'unsupported grant_type', status: 400, error: 'unsupported_grant_type', send: () => cc('web', { grant_type: 'password' }) },
    { name: 'repeated parameter', status: 400, error: 'invalid_request', because: /"scope" is included more than once/, send: () => cc('web', { scope: ['order.write', 'cart.read'] }) },
    {
      name: 'JSON body instead of a form',
      status: 400,
      error: 'invalid_request',
      send: async () => {
        const r = await fetch(ts.tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic('web', secret.web!) }, body: '{"grant_type":"client_credentials"}' })
        return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> }
      },
    },
    {
      name: 'GET on the token endpoint',
      status: 405,
      error: 'invalid_request',
      send: async () => {
        const r = await fetch(`${ts.tokenEndpoint}?grant_type=client_credentials`, { headers: { authorization: basic('web', secret.web!) } })
        return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> }
      },
    },
    { name: 'body over the size limit', status: 413, error: 'invalid_request', because: /too large/, send: () => cc('web', { scope: 'x'.repeat(20_000) }) },

    // client_credentials (RFC 6749 §4.4)
    { name: 'scope outside the client allow-list', status: 400, error: 'invalid_scope', send: () => cc('web', { scope: 'reports.read' }) },
    { name: 'scope with forbidden characters', status: 400, error: 'invalid_scope', send: () => cc('web', { scope: 'order.write "x"' }) },
    { name: 'resource that is not a registered resource server (RFC 8707)', status: 400, error: 'invalid_target', because: /not a registered resource server: https:\/\/evil\.example/, send: () => cc('web', { resource: 'https://evil.example' }) },
    { name: 'scope outside the requested audience', status: 400, error: 'invalid_scope', because: /not defined by the requested audience: cart\.read/, send: () => cc('web', { audience: 'order-service', scope: 'cart.read' }) },
    { name: 'client not registered for the grant', status: 400, error: 'unauthorized_client', send: () => cc('batch-job', { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: tokens.user!, subject_token_type: tokenTypes.accessToken }) },

    // Token exchange (RFC 8693 §2.2.2)
    { name: 'exchange: invalid subject_token', status: 400, error: 'invalid_request', because: /subject_token is not valid: malformed/, send: () => exchange('cart-service', { subject_token: 'not-a-token', subject_token_type: tokenTypes.accessToken }) },
    { name: 'exchange: subject_token from another issuer', status: 400, error: 'invalid_request', because: /subject_token is not valid: unknown kid/, send: () => exchange('cart-service', { subject_token: tokens.foreign!, subject_token_type: tokenTypes.accessToken }) },
    { name: 'exchange: revoked subject_token', status: 400, error: 'invalid_request', because: /subject_token is not valid: revoked/, send: () => exchange('cart-service', { subject_token: tokens.revoked!, subject_token_type: tokenTypes.accessToken }) },
    {
      name: 'exchange: expired subject_token',
      status: 400,
      error: 'invalid_request',
      send: async () => {
        ts.clock.advance(600 + 31)
        try {
          return await exchange('cart-service', { subject_token: tokens.expiring!, subject_token_type: tokenTypes.accessToken })
        } finally {
          ts.clock.advance(-(600 + 31))
        }
      },
    },
    { name: 'exchange: subject_token addressed to another service', status: 400, error: 'invalid_request', because: /not issued to the requesting client/, send: () => exchange('reports', { subject_token: tokens.user!, subject_token_type: tokenTypes.accessToken }) },
    { name: 'exchange: ID-token-typed subject', status: 400, error: 'invalid_request', because: /id_token is not accepted/, send: () => exchange('cart-service', { subject_token: tokens.user!, subject_token_type: tokenTypes.idToken }) },
    { name: 'exchange: missing subject_token_type', status: 400, error: 'invalid_request', send: () => exchange('cart-service', { subject_token: tokens.user! }) },
    { name: 'exchange: scope wider than the subject_token', status: 400, error: 'invalid_scope', because: /wider than the subject_token/, send: () => exchange('reports', { subject_token: tokens.reports!, subject_token_type: tokenTypes.accessToken, audience: 'order-service', scope: 'order.write' }) },
    { name: 'exchange: scope outside the client allow-list', status: 400, error: 'invalid_scope', because: /not allowed for this client/, send: () => exchange('cart-service', { subject_token: tokens.user!, subject_token_type: tokenTypes.accessToken, scope: 'cart.read' }) },
    { name: 'exchange: unregistered audience', status: 400, error: 'invalid_target', send: () => exchange('cart-service', { subject_token: tokens.user!, subject_token_type: tokenTypes.accessToken, audience: 'https://evil.example' }) },
    { name: 'exchange: client not allowed to exchange', status: 400, error: 'unauthorized_client', send: () => postForm(ts.tokenEndpoint, { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: tokens.user!, subject_token_type: tokenTypes.accessToken }, { authorization: basic('batch-job', secret['batch-job']!) }) },
    { name: 'exchange: chain past the depth cap', status: 400, error: 'invalid_request', because: /maximum depth of 4/, send: () => exchange('order-service', { subject_token: tokens.depth4!, subject_token_type: tokenTypes.accessToken, audience: 'order-service' }) },
    { name: 'exchange: may_act names another party', status: 400, error: 'invalid_request', because: /may_act/, send: () => exchange('order-service', { subject_token: tokens.mobile!, subject_token_type: tokenTypes.accessToken }) },
    { name: 'exchange: actor_token of another client', status: 400, error: 'invalid_request', because: /actor_token does not identify/, send: () => exchange('cart-service', { subject_token: tokens.user!, subject_token_type: tokenTypes.accessToken, actor_token: tokens.reports!, actor_token_type: tokenTypes.accessToken }) },
  ]

  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const response = await row.send()
    expect({ status: response.status, error: response.body.error }).toEqual({ status: row.status, error: row.error })
    expect(response.body.error_description).toEqual(expect.stringMatching(row.because ?? /./))
    expect(response.headers.get('cache-control')).toBe('no-store')
    if (row.error === 'invalid_client') expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/)
    expect(response.body).not.toHaveProperty('access_token')
  })

  it('keeps serving after every refusal', async () => {
    const response = await cc('web', { scope: 'order.write' })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('a chain within the cap carries act nested per hop, most recent first', () => {
    const payload = JSON.parse(Buffer.from(tokens.depth4!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
    expect(payload.act).toEqual({ sub: 'order-service', act: { sub: 'order-service', act: { sub: 'order-service', act: { sub: 'cart-service' } } } })
    expect(payload.sub).toBe('web')
  })

  it('narrows a client-credentials token to the requested audience', async () => {
    const response = await cc('web', { audience: 'order-service' })
    expect(response.body).toMatchObject({ scope: 'order.write', token_type: 'Bearer' })
    const payload = JSON.parse(Buffer.from((response.body.access_token as string).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
    expect(payload.aud).toBe('order-service')
  })

  it('may_act lets the named party exchange', async () => {
    const response = await exchange('cart-service', { subject_token: tokens.mobile!, subject_token_type: tokenTypes.accessToken, scope: 'order.write' })
    expect(response.status).toBe(200)
  })

  it('refusals are audited with the reason', async () => {
    await ts.server.context.audit.flush()
    const events = await ts.server.context.store.listAudit(500)
    const refusal = events.find((event) => event.type === 'token.refused' && event.reason?.startsWith('invalid_target'))
    expect(refusal).toMatchObject({ decision: 'deny', clientId: 'cart-service' })
    const issued = events.find((event) => event.type === 'token.issued' && event.act?.length === 4)
    expect(issued).toMatchObject({ decision: 'allow', clientId: 'order-service', subject: 'web', act: ['order-service', 'order-service', 'order-service', 'cart-service'] })
  })
})
