import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN_EXCHANGE_GRANT, tokenTypes } from '../src/index.js'
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js'
import { readEvents } from './helpers/sse.js'
import { basic, postForm, startTestServer, TestClock, type OAuthResponse, type TestServer, type TestServerOptions } from './helpers/test-server.js'

const OPAQUE = /^mgat_[A-Za-z0-9_-]{43}$/
const JWT_TYPE = 'application/jwt'
const SIGNED_TYPE = 'application/token-introspection+jwt'

interface RawResponse {
  status: number
  contentType: string | null
  headers: Headers
  text: string
}

/** The token endpoint, introspection and revocation as the clients of one server call them. */
function clientsOf(ts: TestServer, secrets: Record<string, string>) {
  const auth = (id: string) => ({ authorization: basic(id, secrets[id]!) })
  return {
    token: (id: string, params: Record<string, string> = {}): Promise<OAuthResponse> =>
      postForm(ts.tokenEndpoint, { grant_type: 'client_credentials', ...params }, auth(id)),
    async issue(id: string, params: Record<string, string> = {}): Promise<string> {
      return (await this.token(id, params)).body.access_token as string
    },
    exchange: (id: string, params: Record<string, string>): Promise<OAuthResponse> =>
      postForm(ts.tokenEndpoint, { grant_type: TOKEN_EXCHANGE_GRANT, subject_token_type: tokenTypes.accessToken, ...params }, auth(id)),
    async introspect(token: string, as: string, accept?: string): Promise<RawResponse> {
      const response = await fetch(ts.introspectionEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth(as), ...(accept === undefined ? {} : { accept }) },
        body: new URLSearchParams({ token }),
      })
      return { status: response.status, contentType: response.headers.get('content-type'), headers: response.headers, text: await response.text() }
    },
    async claims(token: string, as = 'rs'): Promise<Record<string, unknown>> {
      return JSON.parse((await this.introspect(token, as)).text) as Record<string, unknown>
    },
    revoke: (token: string, as: string): Promise<OAuthResponse> => postForm(ts.revocationEndpoint, { token }, auth(as)),
  }
}

async function registerMesh(ts: TestServer): Promise<Record<string, string>> {
  await ts.resource('orders-api', ['orders.read'])
  await ts.resource('payments-api', ['payments.charge'])
  const exchange = ['client_credentials', TOKEN_EXCHANGE_GRANT]
  return {
    web: (await ts.client({ id: 'web', scopes: ['orders.read', 'payments.charge'], tokenFormat: 'reference' }))!,
    gateway: (await ts.client({ id: 'gateway', scopes: [], phantomTokens: true }))!,
    rs: (await ts.client({ id: 'rs', scopes: [] }))!,
    'orders-api': (await ts.client({ id: 'orders-api', scopes: ['payments.charge'], grantTypes: exchange, tokenFormat: 'reference' }))!,
    'payments-api': (await ts.client({ id: 'payments-api', scopes: ['orders.read'], grantTypes: exchange }))!,
  }
}

describe('reference tokens and the phantom-token exchange', () => {
  let ts: TestServer
  let api: ReturnType<typeof clientsOf>
  let jwks: ReturnType<typeof createRemoteJWKSet>
  const restoringClock = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } finally {
      ts.clock.set(Date.now())
    }
  }

  beforeAll(async () => {
    ts = await startTestServer()
    api = clientsOf(ts, await registerMesh(ts))
    jwks = createRemoteJWKSet(new URL(ts.jwksUri))
  })
  afterAll(async () => {
    await ts.stop()
    ts.cleanup()
  })

  it('gives a reference client an opaque token, with the same token_type, expires_in and scope', async () => {
    const response = await api.token('web')
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.body).toEqual({ access_token: expect.stringMatching(OPAQUE), token_type: 'Bearer', expires_in: 600, scope: 'orders.read payments.charge' })
    expect(response.body.access_token).not.toContain('.')
    expect(await api.issue('web')).not.toBe(response.body.access_token)
  })

  it('introspects an opaque token to the claims of the JWT it stands for', async () => {
    const token = await api.issue('web')
    const now = Math.floor(ts.clock.now() / 1000)
    const response = await api.introspect(token, 'rs')
    expect(response.status).toBe(200)
    expect(JSON.parse(response.text)).toEqual({
      active: true,
      token_type: 'Bearer',
      iss: ts.issuer,
      sub: 'web',
      aud: ['orders-api', 'payments-api'],
      exp: now + 600,
      iat: now,
      nbf: now,
      jti: expect.any(String),
      client_id: 'web',
      scope: 'orders.read payments.charge',
    })
  })

  it('keeps only the hash of the opaque token, and the JWT sealed, in the store', async () => {
    const token = await api.issue('web')
    const jwt = (await api.introspect(token, 'gateway', JWT_TYPE)).text
    const record = await ts.server.context.store.getReferenceToken(createHash('sha256').update(token).digest('base64url'))
    expect(record).toMatchObject({ jti: (await api.claims(token)).jti, clientId: 'web' })
    for (const file of ['meshguard.db', 'meshguard.db-wal'].map((name) => join(ts.dataDir, name)).filter((path) => existsSync(path))) {
      const bytes = readFileSync(file).toString('latin1')
      expect(bytes).not.toContain(token)
      expect(bytes).not.toContain(jwt.split('.')[2])
    }
  })

  it('gives a phantom-token client the JWT itself, which verifies with the JWKS and has the jti and exp introspection reports', async () => {
    const token = await api.issue('web')
    const claims = await api.claims(token)
    const response = await api.introspect(token, 'gateway', JWT_TYPE)
    expect(response.status).toBe(200)
    expect(response.contentType).toBe(JWT_TYPE)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('vary')).toBe('accept')
    const { payload, protectedHeader } = await jwtVerify(response.text, jwks, { issuer: ts.issuer, typ: 'at+jwt' })
    expect(protectedHeader.typ).toBe('at+jwt')
    expect(payload).toEqual({ ...claims, active: undefined, token_type: undefined })
    expect(payload.jti).toBe(claims.jti)
    expect(payload.exp).toBe(claims.exp)
    // The JWT is an access token like any other: it introspects to the same claims.
    expect(await api.claims(response.text)).toEqual(claims)
  })

  it('gives a phantom-token client a JWT access token back unchanged', async () => {
    const jwt = await api.issue('payments-api')
    expect((await api.introspect(jwt, 'gateway', JWT_TYPE)).text).toBe(jwt)
  })

  it.each([
    ['application/jwt only', JWT_TYPE, 'application/json'],
    ['application/jwt, with the RFC 9701 form as second choice', `${JWT_TYPE}, ${SIGNED_TYPE};q=0.5`, SIGNED_TYPE],
  ])('gives a client without the permission asking for %s no JWT', async (_name, accept, expected) => {
    const token = await api.issue('web')
    const response = await api.introspect(token, 'rs', accept)
    expect(response.status).toBe(200)
    expect(response.contentType).toContain(expected)
    if (expected === SIGNED_TYPE) expect(decodeProtectedHeader(response.text).typ).toBe('token-introspection+jwt')
    else expect(JSON.parse(response.text)).toMatchObject({ active: true, client_id: 'web' })
  })

  it.each([
    ['an unknown opaque token', () => Promise.resolve(`mgat_${randomBytes(32).toString('base64url')}`)],
    ['a malformed opaque token', () => Promise.resolve('mgat_short')],
    ['garbage', () => Promise.resolve('garbage')],
    ['an expired opaque token', async () => {
      const token = await api.issue('web')
      ts.clock.advance(600 + 31)
      return token
    }],
  ] as const)('answers the phantom-token exchange for %s with exactly {"active":false} as JSON', async (_name, make) => {
    await restoringClock(async () => {
      const response = await api.introspect(await make(), 'gateway', JWT_TYPE)
      expect(response.status).toBe(200)
      expect(response.contentType).toMatch(/^application\/json/)
      expect(response.text).toBe('{"active":false}')
    })
  })

  it('signs the introspection response on request (RFC 9701): typ, iss, aud of the asking client, iat, token_introspection', async () => {
    const token = await api.issue('web')
    const response = await api.introspect(token, 'rs', SIGNED_TYPE)
    expect(response.status).toBe(200)
    expect(response.contentType).toBe(SIGNED_TYPE)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const { payload, protectedHeader } = await jwtVerify(response.text, jwks, { issuer: ts.issuer, audience: 'rs', typ: 'token-introspection+jwt' })
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'token-introspection+jwt', kid: expect.any(String) })
    expect(payload).toEqual({ iss: ts.issuer, aud: 'rs', iat: Math.floor(ts.clock.now() / 1000), token_introspection: await api.claims(token) })
    expect((payload.token_introspection as { active: boolean }).active).toBe(true)
  })

  it('signs an inactive answer too, with token_introspection exactly {"active":false}', async () => {
    const response = await api.introspect('garbage', 'gateway', SIGNED_TYPE)
    const { payload } = await jwtVerify(response.text, jwks, { issuer: ts.issuer, audience: 'gateway', typ: 'token-introspection+jwt' })
    expect(payload.token_introspection).toEqual({ active: false })
  })

  it('advertises the RFC 9701 signing algorithm in the metadata', async () => {
    const metadata = (await (await fetch(`${ts.baseUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
    expect(metadata.introspection_signing_alg_values_supported).toEqual(['ES256'])
  })

  it('expires an opaque token with its JWT, for introspection and the phantom exchange alike', async () => {
    const token = await api.issue('web')
    expect((await api.introspect(token, 'gateway', JWT_TYPE)).contentType).toBe(JWT_TYPE)
    await restoringClock(async () => {
      ts.clock.advance(600 + 31)
      expect((await api.introspect(token, 'rs')).text).toBe('{"active":false}')
      expect((await api.introspect(token, 'gateway', JWT_TYPE)).text).toBe('{"active":false}')
    })
  })

  it("revokes the opaque token's jti: announced on the revocation stream, refused as opaque token and as JWT", async () => {
    const token = await api.issue('web')
    const jwt = (await api.introspect(token, 'gateway', JWT_TYPE)).text
    const { jti, exp } = await api.claims(token)
    const stream = readEvents(`${ts.baseUrl}/oauth2/revocations/events`)
    try {
      await stream.waitFor((event) => event.event === 'ready')
      expect((await api.revoke(token, 'rs')).status).toBe(200)
      expect((await api.introspect(token, 'rs')).text).toContain('"active":true')
      expect((await api.revoke(token, 'web')).status).toBe(200)
      const announced = await stream.waitFor((event) => event.event === 'revoked' && event.data.includes(String(jti)), 1000)
      expect(JSON.parse(announced.data)).toEqual({ jti, exp })
    } finally {
      stream.stop()
    }
    expect(await ts.server.context.store.isRevoked(String(jti))).toBe(true)
    expect((await api.introspect(token, 'rs')).text).toBe('{"active":false}')
    const phantom = await api.introspect(token, 'gateway', JWT_TYPE)
    expect([phantom.status, phantom.contentType?.startsWith('application/json'), phantom.text]).toEqual([200, true, '{"active":false}'])
    expect((await api.introspect(jwt, 'rs')).text).toBe('{"active":false}')
  })

  it('exchanges an opaque subject token: a reference client gets an opaque token, a JWT client a JWT', async () => {
    const subject = await api.issue('web')
    const { jti } = await api.claims(subject)
    const toReference = await api.exchange('orders-api', { subject_token: subject })
    expect(toReference.status).toBe(200)
    expect(toReference.body).toEqual({
      access_token: expect.stringMatching(OPAQUE),
      issued_token_type: tokenTypes.accessToken,
      token_type: 'Bearer',
      expires_in: expect.any(Number),
      scope: 'payments.charge',
    })
    expect(await api.claims(toReference.body.access_token as string)).toMatchObject({ active: true, sub: 'web', client_id: 'orders-api', aud: 'payments-api', act: { sub: 'orders-api' } })

    const toJwt = await api.exchange('payments-api', { subject_token: subject, subject_token_type: tokenTypes.accessToken })
    expect(toJwt.body).toMatchObject({ issued_token_type: tokenTypes.accessToken, token_type: 'Bearer', scope: 'orders.read' })
    const { payload } = await jwtVerify(toJwt.body.access_token as string, jwks, { issuer: ts.issuer, audience: 'orders-api', typ: 'at+jwt' })
    expect(payload).toMatchObject({ sub: 'web', act: { sub: 'payments-api' } })
    expect(payload.jti).not.toBe(jti)
  })

  describe('refusals', () => {
    const unknown = () => `mgat_${randomBytes(32).toString('base64url')}`
    it.each<[string, () => Promise<{ as: string; params: Record<string, string> }>, string]>([
      ['an unknown opaque subject token', () => Promise.resolve({ as: 'orders-api', params: { subject_token: unknown() } }), 'subject_token is not valid: unknown reference token'],
      ['a malformed opaque subject token', () => Promise.resolve({ as: 'orders-api', params: { subject_token: 'mgat_x' } }), 'subject_token is not valid: unknown reference token'],
      ['an opaque subject token typed as a JWT', async () => ({ as: 'orders-api', params: { subject_token: await api.issue('web'), subject_token_type: tokenTypes.jwt } }), `subject_token is a reference token, not a JWT: its subject_token_type is ${tokenTypes.accessToken}`],
      ['a revoked opaque subject token', async () => {
        const subject = await api.issue('web')
        await api.revoke(subject, 'web')
        return { as: 'orders-api', params: { subject_token: subject } }
      }, 'subject_token is not valid: revoked'],
      ['an opaque subject token not issued to the requester', async () => ({ as: 'payments-api', params: { subject_token: await api.issue('web', { scope: 'orders.read' }) } }), 'subject_token was not issued to the requesting client (it is not in its aud)'],
      ['an opaque actor token of another client', async () => ({ as: 'orders-api', params: { subject_token: await api.issue('web'), actor_token: await api.issue('web'), actor_token_type: tokenTypes.accessToken } }), 'actor_token does not identify the requesting client'],
      ['an unknown opaque actor token', async () => ({ as: 'orders-api', params: { subject_token: await api.issue('web'), actor_token: unknown(), actor_token_type: tokenTypes.accessToken } }), 'actor_token is not valid: unknown reference token'],
    ])('token exchange refuses %s: 400 invalid_request', async (_name, make, description) => {
      const { as, params } = await make()
      const response = await api.exchange(as, params)
      expect([response.status, response.body]).toEqual([400, { error: 'invalid_request', error_description: description }])
    })

    it('token exchange refuses an expired opaque subject token: 400 invalid_request', async () => {
      const subject = await api.issue('web')
      await restoringClock(async () => {
        ts.clock.advance(600 + 31)
        const response = await api.exchange('orders-api', { subject_token: subject })
        expect([response.status, response.body]).toEqual([400, { error: 'invalid_request', error_description: 'subject_token is not valid: expired' }])
      })
    })

    it.each([
      ['no client authentication', {}],
      ['a wrong secret', { authorization: basic('gateway', 'x'.repeat(43)) }],
    ])('answers the phantom-token exchange with %s 401 invalid_client, as JSON', async (_name, headers) => {
      const response = await postForm(ts.introspectionEndpoint, { token: await api.issue('web') }, { accept: JWT_TYPE, ...headers })
      expect(response.status).toBe(401)
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
      expect(response.body.error).toBe('invalid_client')
    })

    it('audits a phantom-token request from a client without the permission', async () => {
      await api.introspect(await api.issue('web'), 'rs', JWT_TYPE)
      await ts.server.context.audit.flush()
      const events = await ts.server.context.store.listAudit(500)
      expect(events.find((event) => event.type === 'token.introspected' && event.clientId === 'rs' && event.details?.phantom_refused !== undefined)).toMatchObject({
        details: { active: true, format: 'reference', response: 'application/json', phantom_refused: 'client is not registered for phantom tokens' },
      })
      expect(events.find((event) => event.type === 'token.issued' && event.clientId === 'web')).toMatchObject({ details: { token_format: 'reference' } })
    })
  })
})

let database: TestDatabase | undefined
afterAll(async () => database?.drop())
const backends = [
  ['SQLite', () => Promise.resolve({})],
  ['PostgreSQL', async () => {
    database ??= await createTestDatabase()
    return { databaseUrl: database.url }
  }],
] as const

describe.each(backends)('reference tokens across a restart on %s', (_backend, backendOptions) => {
  it('introspects and swaps for the same JWT after the server restarts', async () => {
    const clock = new TestClock()
    const first = await startTestServer({ ...(await backendOptions()), clock } satisfies TestServerOptions)
    const secrets = await registerMesh(first)
    const token = await clientsOf(first, secrets).issue('web')
    const before = await clientsOf(first, secrets).claims(token)
    const jwt = (await clientsOf(first, secrets).introspect(token, 'gateway', JWT_TYPE)).text
    await first.stop()

    const second = await startTestServer({
      dataDir: first.dataDir,
      databaseUrl: first.server.context.config.databaseUrl,
      keyEncryptionKey: first.keyEncryptionKey,
      clock,
      config: { port: Number(new URL(first.issuer).port) },
    })
    try {
      const api = clientsOf(second, secrets)
      expect(await api.claims(token)).toEqual(before)
      expect((await api.introspect(token, 'gateway', JWT_TYPE)).text).toBe(jwt)
    } finally {
      await second.stop()
      second.cleanup()
    }
  })
})

describe('reference tokens on two instances sharing PostgreSQL', () => {
  let shared: TestDatabase
  let a: TestServer
  let b: TestServer
  let secrets: Record<string, string>

  beforeAll(async () => {
    shared = await createTestDatabase()
    const options = { databaseUrl: shared.url, keyEncryptionKey: randomBytes(32).toString('base64url'), config: { issuer: 'https://auth.mesh.test' } }
    a = await startTestServer(options)
    b = await startTestServer(options)
    secrets = await registerMesh(a)
  })
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()])
    a.cleanup()
    b.cleanup()
    await shared.drop()
  })

  it('lets the second instance resolve a token the first issued, and honours its revocation', async () => {
    const token = await clientsOf(a, secrets).issue('web')
    const atA = clientsOf(a, secrets)
    const atB = clientsOf(b, secrets)
    expect(await atB.claims(token)).toEqual(await atA.claims(token))
    expect((await atB.introspect(token, 'gateway', JWT_TYPE)).text).toBe((await atA.introspect(token, 'gateway', JWT_TYPE)).text)

    expect((await atB.revoke(token, 'web')).status).toBe(200)
    expect((await atB.introspect(token, 'rs')).text).toBe('{"active":false}')
    // A learns of B's revocation at its next refresh from the store (state.refreshIntervalSec, 1 s).
    let answer = (await atA.introspect(token, 'gateway', JWT_TYPE)).text
    for (let attempt = 0; attempt < 30 && answer !== '{"active":false}'; attempt += 1) {
      await new Promise((done) => setTimeout(done, 100))
      answer = (await atA.introspect(token, 'gateway', JWT_TYPE)).text
    }
    expect(answer).toBe('{"active":false}')
  })
})
