import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { pino } from 'pino'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initCa, newWorkloadKey, x509, type CertificateAuthority } from '@meshguard/pki'
import { createAuthServer, MeshguardError, parseConfig, TOKEN_EXCHANGE_GRANT, tokenTypes, type AuthServerConfigInput } from '../src/index.js'
import { basic, postForm, postFormVia, startTestServer, type OAuthResponse, type TestServer } from './helpers/test-server.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const PAYMENTS = 'spiffe://example.org/ns/shop/sa/payments'
const INTRUDER = 'spiffe://example.org/ns/shop/sa/intruder'
const AUTH_SERVER = 'spiffe://example.org/meshguard/auth-server'
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const FAILED = 'client authentication failed'
const REQUIRED = 'client authentication is required'
const UNVERIFIED = 'the client certificate did not verify against the trust bundle'

interface Workload {
  spiffeId: string
  /** The leaf alone, PEM. */
  certificatePem: string
  /** The leaf and the intermediate: what the client presents. */
  chainPem: string
  keyPem: string
  serialNumber: string
}

let dir: string
let ca: CertificateAuthority
let otherCa: CertificateAuthority
const workloads: Record<'orders' | 'payments' | 'intruder' | 'foreignOrders' | 'server', Workload> = {} as never
const agents: Agent[] = []

async function issue(authority: CertificateAuthority, spiffeId: string, dnsNames: string[] = []): Promise<Workload> {
  const { keyPem, csrPem } = await newWorkloadKey(spiffeId, dnsNames)
  const issued = await authority.issue({ csr: csrPem, identity: spiffeId, allowedDnsNames: dnsNames })
  return { spiffeId, certificatePem: issued.certificatePem, chainPem: issued.chainPem, keyPem, serialNumber: issued.serialNumber }
}

/** RFC 8705 §3.1, computed by OpenSSL: `openssl x509 -outform DER | openssl dgst -sha256 -binary`, then base64url. */
function opensslThumbprint(certificatePem: string): string {
  const der = execFileSync('openssl', ['x509', '-outform', 'DER'], { input: certificatePem })
  return execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der }).toString('base64url')
}

/** A CRL file as the CA service publishes it: the intermediate's, listing `revoked`, then the root's. */
async function crlPem(revoked: Workload[]): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const crl = await ca.createCrl(
    revoked.map((workload) => ({
      serialNumber: workload.serialNumber,
      spiffeId: workload.spiffeId,
      kind: 'offline' as const,
      notBefore: now - 60,
      notAfter: now + 3600,
      issuedAt: now,
      revokedAt: now,
      revocationReason: 'keyCompromise',
    })),
  )
  return `${x509.PemConverter.encode([{ type: 'X509 CRL', rawData: crl.rawData }]).trimEnd()}\n${ca.rootCrlPem}`
}

/** An undici client trusting the mesh CA and, when given, presenting a workload's certificate. */
function agent(workload?: Workload): Agent {
  const created = new Agent({
    connect: { ca: ca.trustBundlePem, servername: 'localhost', ...(workload && { cert: workload.chainPem, key: workload.keyPem }) },
  })
  agents.push(created)
  return created
}

function file(name: string, contents: string): string {
  const path = join(dir, name)
  writeFileSync(path, contents)
  return path
}

function mtlsConfig(crl = join(dir, 'crl.pem')): NonNullable<AuthServerConfigInput['mtls']> {
  return {
    port: 0,
    certFile: file('server.pem', workloads.server.chainPem),
    keyFile: file('server.key', workloads.server.keyPem),
    caFile: file('bundle.pem', ca.trustBundlePem),
    crlFile: crl,
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshguard-mtls-'))
  const passphrase = randomBytes(16).toString('hex')
  ca = await initCa({ dir: join(dir, 'ca'), trustDomain: 'example.org', passphrase })
  // Another CA of the same trust domain: its certificates name the same SPIFFE IDs, but do not chain to our bundle.
  otherCa = await initCa({ dir: join(dir, 'other-ca'), trustDomain: 'example.org', passphrase })
  workloads.orders = await issue(ca, ORDERS)
  workloads.payments = await issue(ca, PAYMENTS)
  workloads.intruder = await issue(ca, INTRUDER)
  workloads.foreignOrders = await issue(otherCa, ORDERS)
  workloads.server = await issue(ca, AUTH_SERVER, ['localhost'])
  file('crl.pem', await crlPem([]))
})

afterAll(async () => {
  await Promise.all(agents.map((created) => created.close()))
  rmSync(dir, { recursive: true, force: true })
})

describe('tls_client_auth (RFC 8705 §2.1) and certificate-bound access tokens (§3)', () => {
  let ts: TestServer
  let ledgerSecret: string
  let assertionKey: CryptoKey
  const via: Record<string, Agent> = {}

  const clientCredentials = (dispatcher: Agent, params: Record<string, string>, headers?: Record<string, string>) =>
    postFormVia(dispatcher, ts.mtls!.tokenEndpoint, { grant_type: 'client_credentials', ...params }, headers)
  const claimsOf = (response: OAuthResponse) => decodeJwt(response.body.access_token as string)

  beforeAll(async () => {
    ts = await startTestServer({ config: { mtls: mtlsConfig() } })
    await ts.resource('payments', ['payments.charge'])
    await ts.resource('ledger', ['ledger.write'])
    const exchanger = ['client_credentials', TOKEN_EXCHANGE_GRANT]
    await ts.client({ id: 'orders', scopes: ['payments.charge', 'ledger.write'], tlsClientAuthSanUri: ORDERS })
    await ts.client({ id: 'payments', scopes: ['ledger.write'], grantTypes: exchanger, tlsClientAuthSanUri: PAYMENTS })
    ledgerSecret = (await ts.client({ id: 'ledger', scopes: ['ledger.write'], grantTypes: exchanger }))!
    const pair = await generateKeyPair('ES256')
    assertionKey = pair.privateKey
    await ts.client({ id: 'batch', scopes: ['ledger.write'], jwks: [{ ...(await exportJWK(pair.publicKey)), kid: 'batch-1', alg: 'ES256' }] })
    via.anonymous = agent()
    for (const name of ['orders', 'payments', 'intruder', 'foreignOrders'] as const) via[name] = agent(workloads[name])
  })
  afterAll(async () => {
    await ts.stop()
    ts.cleanup()
  })

  it('issues a token bound to the certificate presented: cnf.x5t#S256 is its SHA-256 thumbprint', async () => {
    const response = await clientCredentials(via.orders!, { client_id: 'orders', scope: 'payments.charge' })
    expect(response.status).toBe(200)
    expect(response.body).toMatchObject({ token_type: 'Bearer', scope: 'payments.charge' })
    const claims = claimsOf(response)
    expect(claims).toMatchObject({ sub: 'orders', client_id: 'orders', aud: 'payments' })
    expect(claims.cnf).toStrictEqual({ 'x5t#S256': opensslThumbprint(workloads.orders.certificatePem) })
  })

  it('returns the cnf of a bound token from introspection (RFC 8705 §3.2), on either listener', async () => {
    const token = (await clientCredentials(via.orders!, { client_id: 'orders' })).body.access_token as string
    const cnf = { 'x5t#S256': opensslThumbprint(workloads.orders.certificatePem) }
    const plain = await postForm(ts.introspectionEndpoint, { token }, { authorization: basic('ledger', ledgerSecret) })
    expect(plain).toMatchObject({ status: 200, body: { active: true, client_id: 'orders', cnf } })
    const mutual = await postFormVia(via.orders!, ts.mtls!.introspectionEndpoint, { token, client_id: 'orders' })
    expect(mutual).toMatchObject({ status: 200, body: { active: true, cnf } })
  })

  it('lets a tls_client_auth client revoke its token on the mutual-TLS listener', async () => {
    const token = (await clientCredentials(via.orders!, { client_id: 'orders' })).body.access_token as string
    expect((await postFormVia(via.orders!, ts.mtls!.revocationEndpoint, { token, client_id: 'orders' })).status).toBe(200)
    const after = await postForm(ts.introspectionEndpoint, { token }, { authorization: basic('ledger', ledgerSecret) })
    expect(after.body).toStrictEqual({ active: false })
  })

  it('publishes the mutual-TLS endpoints and methods in discovery (RFC 8705 §3.3, §5)', async () => {
    const metadata = (await (await fetch(`${ts.baseUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
    expect(metadata).toMatchObject({
      token_endpoint: ts.tokenEndpoint,
      tls_client_certificate_bound_access_tokens: true,
      mtls_endpoint_aliases: {
        token_endpoint: ts.mtls!.tokenEndpoint,
        introspection_endpoint: ts.mtls!.introspectionEndpoint,
        revocation_endpoint: ts.mtls!.revocationEndpoint,
      },
    })
    for (const member of ['token_endpoint_auth_methods_supported', 'introspection_endpoint_auth_methods_supported', 'revocation_endpoint_auth_methods_supported']) {
      expect(metadata[member]).toContain('tls_client_auth')
    }
    const overMutualTls = await request(`${ts.mtls!.baseUrl}/.well-known/oauth-authorization-server`, { dispatcher: via.anonymous! })
    expect(await overMutualTls.body.json()).toStrictEqual(metadata)
  })

  it('serves a secret client on the mutual-TLS listener, with or without a certificate, and binds none of its tokens', async () => {
    for (const dispatcher of [via.anonymous!, via.orders!]) {
      const response = await clientCredentials(dispatcher, {}, { authorization: basic('ledger', ledgerSecret) })
      expect(response.status).toBe(200)
      expect(claimsOf(response)).toMatchObject({ sub: 'ledger' })
      expect(claimsOf(response).cnf).toBeUndefined()
    }
  })

  it('accepts a private_key_jwt assertion addressed to the mutual-TLS token endpoint, and binds nothing', async () => {
    const now = Math.floor(Date.now() / 1000)
    const assertion = await new SignJWT({ iss: 'batch', sub: 'batch', aud: ts.mtls!.tokenEndpoint, jti: randomBytes(8).toString('hex'), iat: now, exp: now + 60 })
      .setProtectedHeader({ alg: 'ES256', kid: 'batch-1' })
      .sign(assertionKey)
    const response = await clientCredentials(via.anonymous!, { client_assertion_type: JWT_BEARER, client_assertion: assertion })
    expect(response.status).toBe(200)
    expect(claimsOf(response).cnf).toBeUndefined()
  })

  it('binds an exchanged token to the requester\'s certificate, not to the subject token\'s', async () => {
    const subject = (await clientCredentials(via.orders!, { client_id: 'orders', scope: 'payments.charge ledger.write' })).body.access_token as string
    const exchange = { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subject, subject_token_type: tokenTypes.accessToken, scope: 'ledger.write' }

    const byPayments = await postFormVia(via.payments!, ts.mtls!.tokenEndpoint, { ...exchange, client_id: 'payments' })
    expect(byPayments.status).toBe(200)
    expect(claimsOf(byPayments)).toMatchObject({ sub: 'orders', client_id: 'payments', aud: 'ledger', act: { sub: 'payments' } })
    expect(claimsOf(byPayments).cnf).toStrictEqual({ 'x5t#S256': opensslThumbprint(workloads.payments.certificatePem) })

    const byLedger = await postForm(ts.tokenEndpoint, exchange, { authorization: basic('ledger', ledgerSecret) })
    expect(byLedger.status).toBe(200)
    expect(claimsOf(byLedger)).toMatchObject({ sub: 'orders', act: { sub: 'ledger' } })
    expect(claimsOf(byLedger).cnf).toBeUndefined()
  })

  interface Refusal {
    name: string
    status: number
    error: string
    description: string
    send: () => Promise<OAuthResponse>
  }
  const twoMethods = (...methods: string[]) => `more than one client authentication method used: ${methods.join(', ')}`
  const refusals: Refusal[] = [
    {
      name: 'no client certificate on the mutual-TLS listener',
      status: 401,
      error: 'invalid_client',
      description: REQUIRED,
      send: () => clientCredentials(via.anonymous!, { client_id: 'orders' }),
    },
    {
      name: 'a certificate for another SPIFFE ID',
      status: 401,
      error: 'invalid_client',
      description: FAILED,
      send: () => clientCredentials(via.intruder!, { client_id: 'orders' }),
    },
    {
      name: "another registered workload's certificate",
      status: 401,
      error: 'invalid_client',
      description: FAILED,
      send: () => clientCredentials(via.payments!, { client_id: 'orders' }),
    },
    {
      name: 'a certificate from another CA, for the same SPIFFE ID',
      status: 401,
      error: 'invalid_client',
      description: UNVERIFIED,
      send: () => clientCredentials(via.foreignOrders!, { client_id: 'orders' }),
    },
    {
      name: 'the tls_client_auth client over the plain HTTP listener',
      status: 401,
      error: 'invalid_client',
      description: REQUIRED,
      send: () => postForm(ts.tokenEndpoint, { grant_type: 'client_credentials', client_id: 'orders' }),
    },
    {
      name: 'an unknown client_id with a verified certificate',
      status: 401,
      error: 'invalid_client',
      description: FAILED,
      send: () => clientCredentials(via.orders!, { client_id: 'nobody' }),
    },
    {
      name: "a secret client's id with a verified certificate and no secret",
      status: 401,
      error: 'invalid_client',
      description: FAILED,
      send: () => clientCredentials(via.orders!, { client_id: 'ledger' }),
    },
    {
      name: 'the tls_client_auth client also sending a client_secret',
      status: 400,
      error: 'invalid_request',
      description: twoMethods('client_secret_post', 'tls_client_auth'),
      send: () => clientCredentials(via.orders!, { client_id: 'orders', client_secret: 'x'.repeat(43) }),
    },
    {
      name: 'the tls_client_auth client also sending Basic credentials',
      status: 400,
      error: 'invalid_request',
      description: twoMethods('client_secret_basic', 'tls_client_auth'),
      send: () => clientCredentials(via.orders!, { client_id: 'orders' }, { authorization: basic('orders', 'x'.repeat(43)) }),
    },
    {
      name: 'the tls_client_auth client also sending a client assertion',
      status: 400,
      error: 'invalid_request',
      description: twoMethods('private_key_jwt', 'tls_client_auth'),
      send: () => clientCredentials(via.orders!, { client_id: 'orders', client_assertion_type: JWT_BEARER, client_assertion: 'a.b.c' }),
    },
    {
      name: 'a secret client sending client_id and client_secret over a connection with a certificate',
      status: 400,
      error: 'invalid_request',
      description: twoMethods('client_secret_post', 'tls_client_auth'),
      send: () => clientCredentials(via.orders!, { client_id: 'ledger', client_secret: ledgerSecret }),
    },
    {
      name: 'introspection by the tls_client_auth client over the plain listener',
      status: 401,
      error: 'invalid_client',
      description: REQUIRED,
      send: () => postForm(ts.introspectionEndpoint, { token: 'x', client_id: 'orders' }),
    },
    {
      name: 'revocation with a certificate for another SPIFFE ID',
      status: 401,
      error: 'invalid_client',
      description: FAILED,
      send: () => postFormVia(via.intruder!, ts.mtls!.revocationEndpoint, { token: 'x', client_id: 'orders' }),
    },
  ]

  it.each(refusals)('refuses $name with $status $error', async ({ status, error, description, send }) => {
    const response = await send()
    expect({ status: response.status, body: response.body }).toStrictEqual({ status, body: { error, error_description: description } })
    if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Basic /)
  })

  it('audits refusals with the certificate presented', async () => {
    await ts.server.context.audit.flush()
    const events = await ts.server.context.store.listAudit(500)
    const presented = (event: (typeof events)[number]) => (event.details?.client_certificate as { uris?: string[] } | undefined)?.uris?.[0]
    const refused = events.find((event) => event.type === 'token.refused' && presented(event) === INTRUDER)
    expect(refused).toMatchObject({
      decision: 'deny',
      reason: `invalid_client: ${FAILED}`,
      details: {
        claimed_client_id: 'orders',
        client_certificate: { uris: [INTRUDER], verified: true, 'x5t#S256': opensslThumbprint(workloads.intruder.certificatePem) },
      },
    })
    const unverified = events.find((event) => event.type === 'token.refused' && event.reason === `invalid_client: ${UNVERIFIED}`)
    expect(unverified).toMatchObject({ details: { claimed_client_id: 'orders', client_certificate: { uris: [ORDERS], verified: false } } })
    const issued = events.find((event) => event.type === 'token.issued' && event.clientId === 'payments')
    expect(issued).toMatchObject({ details: { cnf: { 'x5t#S256': opensslThumbprint(workloads.payments.certificatePem) } } })
  })

  describe('registration', () => {
    it('registers a tls_client_auth client without a secret', async () => {
      expect(await ts.client({ id: 'inventory', scopes: ['ledger.write'], tlsClientAuthSanUri: 'spiffe://example.org/ns/shop/sa/inventory' })).toBeUndefined()
      expect(await ts.server.context.store.getClient('inventory')).toMatchObject({
        secretHash: null,
        jwks: null,
        tlsClientAuthSanUri: 'spiffe://example.org/ns/shop/sa/inventory',
      })
    })

    it.each([
      ['not a SPIFFE ID', { tlsClientAuthSanUri: 'https://example.org/orders' }, /tls_client_auth_san_uri "https:\/\/example\.org\/orders" is not a SPIFFE ID/],
      ['a SPIFFE ID with a dot segment', { tlsClientAuthSanUri: 'spiffe://example.org/ns/../orders' }, /is not a SPIFFE ID/],
      ['a trust domain', { tlsClientAuthSanUri: 'spiffe://example.org' }, /names a trust domain, not a workload/],
      ['a secret too', { tlsClientAuthSanUri: ORDERS, secret: 'x'.repeat(43) }, /give one of a secret, keys or a tls_client_auth SPIFFE ID/],
    ])('refuses %s', async (_name, credentials, message) => {
      const error = await ts.client({ id: 'refused', scopes: ['ledger.write'], ...credentials }).catch((err: unknown) => err)
      expect(error).toBeInstanceOf(MeshguardError)
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(message) as unknown })
    })
  })
})

describe('reloading the mutual-TLS files', () => {
  let ts: TestServer
  let victim: Workload
  const crl = () => join(dir, 'reload-crl.pem')

  beforeAll(async () => {
    file('reload-crl.pem', await crlPem([]))
    ts = await startTestServer({ config: { mtls: { ...mtlsConfig(crl()), reloadIntervalSec: 3600 } } })
    await ts.resource('ledger', ['ledger.write'])
    await ts.client({ id: 'orders', scopes: ['ledger.write'], tlsClientAuthSanUri: ORDERS })
    victim = await issue(ca, ORDERS)
  })
  afterAll(async () => {
    await ts.stop()
    ts.cleanup()
  })

  /** Sends a token request on a raw TLS connection in two steps: headers (answered by `100 Continue`), then `body` once `between` has run. */
  async function requestAcross(workload: Workload, between: () => Promise<void>): Promise<string> {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(ts.mtls!.baseUrl).port), servername: 'localhost', ca: ca.trustBundlePem, cert: workload.chainPem, key: workload.keyPem })
    await once(socket, 'secureConnect')
    const body = 'grant_type=client_credentials&client_id=orders'
    socket.write(`POST /oauth2/token HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${body.length}\r\nexpect: 100-continue\r\n\r\n`)
    const [continued] = (await once(socket, 'data')) as [Buffer]
    expect(continued.toString()).toMatch(/^HTTP\/1\.1 100 Continue/)
    await between()
    let response = ''
    socket.on('data', (chunk: Buffer) => (response += chunk.toString()))
    socket.write(body)
    await once(socket, 'end')
    socket.destroy()
    return response
  }

  it('refuses a certificate revoked by a new CRL file once it is reloaded, and keeps serving the others', async () => {
    expect((await postFormVia(agent(victim), ts.mtls!.tokenEndpoint, { grant_type: 'client_credentials', client_id: 'orders' })).status).toBe(200)

    const response = await requestAcross(victim, async () => {
      writeFileSync(crl(), await crlPem([victim]))
      expect(await ts.server.mtls!.reload()).toBe(true)
    })
    // The request in flight during the reload is answered, and its connection closed.
    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(response).toMatch(/\r\nconnection: close\r\n/i)

    const refused = await postFormVia(agent(victim), ts.mtls!.tokenEndpoint, { grant_type: 'client_credentials', client_id: 'orders' })
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_client', error_description: UNVERIFIED } })
    const other = await postFormVia(agent(workloads.orders), ts.mtls!.tokenEndpoint, { grant_type: 'client_credentials', client_id: 'orders' })
    expect(other.status).toBe(200)
    expect(decodeJwt(other.body.access_token as string).cnf).toStrictEqual({ 'x5t#S256': opensslThumbprint(workloads.orders.certificatePem) })
  })

  it('reports an unchanged set of files, and keeps the previous files when the new ones are unusable', async () => {
    expect(await ts.server.mtls!.reload()).toBe(false)
    writeFileSync(join(dir, 'server.key'), workloads.orders.keyPem)
    await expect(ts.server.mtls!.reload()).rejects.toMatchObject({ code: 'ERR_TLS_CREDENTIALS', message: expect.stringContaining('not usable together') as unknown })
    writeFileSync(join(dir, 'server.key'), workloads.server.keyPem)
    const still = await postFormVia(agent(workloads.orders), ts.mtls!.tokenEndpoint, { grant_type: 'client_credentials', client_id: 'orders' })
    expect(still.status).toBe(200)
  })
})

describe('mutual-TLS listener configuration', () => {
  const base = () => ({ port: 0, dataDir: join(dir, 'unused'), keyEncryptionKey: randomBytes(32).toString('base64url'), log: { level: 'silent' as const } })
  const start = (mtls: NonNullable<AuthServerConfigInput['mtls']>) => createAuthServer(parseConfig({ ...base(), mtls }), { logger: pino({ level: 'silent' }) })

  it.each([
    ['a missing certificate file', () => ({ ...mtlsConfig(), certFile: join(dir, 'missing.pem') }), /cannot read mtls\.certFile .*missing\.pem/],
    ['a key that is not the certificate\'s', () => ({ ...mtlsConfig(), keyFile: file('wrong.key', workloads.orders.keyPem) }), /not usable together/],
    ['a trust bundle without a certificate', () => ({ ...mtlsConfig(), caFile: file('empty-bundle.pem', '') }), /mtls\.caFile .* holds no PEM certificate/],
    ['a CRL file without a CRL', () => ({ ...mtlsConfig(), crlFile: file('empty-crl.pem', 'nothing') }), /mtls\.crlFile .* holds no PEM CRL/],
  ])('refuses to start with %s', async (_name, mtls, message) => {
    await expect(start(mtls())).rejects.toMatchObject({ code: 'ERR_TLS_CREDENTIALS', message: expect.stringMatching(message) as unknown })
  })

  it('publishes aliases under the issuer path, and serves the endpoints there', async () => {
    const ts = await startTestServer({ config: { issuer: 'http://127.0.0.1:4999/tenant-a', mtls: mtlsConfig() } })
    try {
      await ts.resource('ledger', ['ledger.write'])
      await ts.client({ id: 'orders', scopes: ['ledger.write'], tlsClientAuthSanUri: ORDERS })
      const metadata = (await (await fetch(`http://127.0.0.1:${new URL(ts.baseUrl).port}/.well-known/oauth-authorization-server/tenant-a`)).json()) as Record<string, unknown>
      expect(ts.mtls!.tokenEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/tenant-a\/oauth2\/token$/)
      expect(metadata.mtls_endpoint_aliases).toMatchObject({ token_endpoint: ts.mtls!.tokenEndpoint })
      const response = await postFormVia(agent(workloads.orders), ts.mtls!.tokenEndpoint, { grant_type: 'client_credentials', client_id: 'orders' })
      expect(response.status).toBe(200)
    } finally {
      await ts.stop()
      ts.cleanup()
    }
  })

  it('publishes the configured mtls.origin with the issuer path, and no mutual-TLS metadata without a listener', async () => {
    const withOrigin = await startTestServer({ config: { issuer: 'http://127.0.0.1:4999/tenant-a', mtls: { ...mtlsConfig(), origin: 'https://auth-mtls.example.org/' } } })
    const without = await startTestServer()
    try {
      const metadata = async (ts: TestServer) => (await (await fetch(`${ts.baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>
      expect((await metadata(withOrigin)).mtls_endpoint_aliases).toStrictEqual({
        token_endpoint: 'https://auth-mtls.example.org/tenant-a/oauth2/token',
        introspection_endpoint: 'https://auth-mtls.example.org/tenant-a/oauth2/introspect',
        revocation_endpoint: 'https://auth-mtls.example.org/tenant-a/oauth2/revoke',
      })
      const plain = await metadata(without)
      expect(plain).not.toHaveProperty('mtls_endpoint_aliases')
      expect(plain).not.toHaveProperty('tls_client_certificate_bound_access_tokens')
      expect(plain.token_endpoint_auth_methods_supported).toStrictEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
    } finally {
      await Promise.all([withOrigin.stop(), without.stop()])
      withOrigin.cleanup()
      without.cleanup()
    }
  })
})
