import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CryptoKey, JWK } from 'jose'
import { SignJWT, base64url, exportJWK, generateKeyPair, generateSecret } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jwtCommand, metadataUrl } from '../src/commands/jwt.js'

const NOW = Date.parse('2025-06-01T12:00:00Z')
const NOW_S = NOW / 1000
const segment = (value: unknown): string => base64url.encode(JSON.stringify(value))

interface Signer {
  readonly alg: string
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly jwk: JWK
}

async function signer(alg: 'ES256' | 'RS256' | 'EdDSA', kid: string): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg)
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

const routes = new Map<string, unknown>()
const server = createServer((request, response) => {
  const body = routes.get(request.url ?? '')
  if (body === undefined) response.writeHead(404).end()
  else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
})
let base = ''
let es256: Signer
let rs256: Signer
let eddsa: Signer

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  ;[es256, rs256, eddsa] = await Promise.all([signer('ES256', 'k1'), signer('RS256', 'rs1'), signer('EdDSA', 'ed1')])
  routes.set('/jwks', { keys: [es256.jwk, rs256.jwk, eddsa.jwk] })
  routes.set('/.well-known/oauth-authorization-server', { issuer: base, jwks_uri: `${base}/jwks` })
  routes.set('/.well-known/oauth-authorization-server/tenant-a', { issuer: `${base}/tenant-a`, jwks_uri: `${base}/jwks` })
  routes.set('/.well-known/oauth-authorization-server/imposter', { issuer: 'https://as.example', jwks_uri: `${base}/jwks` })
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

interface TokenOptions {
  readonly signer?: Signer
  readonly kid?: string
  readonly typ?: string
}

function accessToken(claims: Record<string, unknown> = {}, options: TokenOptions = {}): Promise<string> {
  const key = options.signer ?? es256
  return new SignJWT({ iss: base, sub: 'alice', aud: 'orders', iat: NOW_S - 60, exp: NOW_S + 540, ...claims })
    .setProtectedHeader({ alg: key.alg, typ: options.typ ?? 'at+jwt', kid: options.kid ?? key.kid })
    .sign(key.privateKey)
}

interface Run {
  readonly out: string[]
  readonly err: string[]
  readonly exitCode: number
}

async function meshguardJwt(args: string[], stdin = ''): Promise<Run> {
  let out = ''
  let err = ''
  let exitCode = 0
  await jwtCommand({
    out: (s) => (out += s),
    err: (s) => (err += s),
    readStdin: () => Promise.resolve(stdin),
    now: () => NOW,
    setExitCode: (code) => (exitCode = code),
  }).parseAsync(args, { from: 'user' })
  return { out: out.split('\n'), err: err === '' ? [] : err.trimEnd().split('\n'), exitCode }
}

const VALID = ['signature valid (kid k1, alg ES256)']

describe('meshguard jwt verify', () => {
  it('accepts a token signed by a key in the JWKS', async () => {
    const run = await meshguardJwt(['verify', await accessToken(), '--jwks', `${base}/jwks`])
    expect(run.out.slice(-11)).toEqual([
      'Summary',
      `  issuer      ${base}`,
      '  subject     alice',
      '  audience    orders',
      '  issued at   2025-06-01T11:59:00Z (1 minute ago)',
      '  expires at  2025-06-01T12:09:00Z (in 9 minutes)',
      '  status      expires in 9 minutes',
      '',
      ...VALID,
      'claims valid: typ at+jwt, exp/nbf; iss not checked (no --issuer); aud not checked (no --audience)',
      '',
    ])
    expect(run).toMatchObject({ err: [], exitCode: 0 })
  })

  it.each([
    ['RS256', () => rs256, 'signature valid (kid rs1, alg RS256)'],
    ['EdDSA', () => eddsa, 'signature valid (kid ed1, alg EdDSA)'],
  ])('accepts %s', async (_, key, line) => {
    const run = await meshguardJwt(['verify', await accessToken({}, { signer: key() }), '--jwks', `${base}/jwks`])
    expect(run.out).toContain(line)
    expect(run.exitCode).toBe(0)
  })

  it('checks iss and aud when given', async () => {
    const run = await meshguardJwt(['verify', await accessToken(), '--jwks', `${base}/jwks`, '--issuer', base, '--audience', 'orders'])
    expect(run.out.slice(-3)).toEqual([...VALID, `claims valid: typ at+jwt, exp/nbf, iss ${base}, aud orders`, ''])
    expect(run.exitCode).toBe(0)
  })

  it('finds the JWKS through the issuer metadata (RFC 8414)', async () => {
    const run = await meshguardJwt(['verify', await accessToken(), '--issuer', base])
    expect(run.out.slice(-3)).toEqual([
      ...VALID,
      `claims valid: typ at+jwt, exp/nbf, iss ${base}; aud not checked (no --audience)`,
      '',
    ])
    expect(run.exitCode).toBe(0)
  })

  it('finds the metadata of an issuer with a path under /.well-known/oauth-authorization-server/<path>', async () => {
    const run = await meshguardJwt(['verify', await accessToken({ iss: `${base}/tenant-a` }), '--issuer', `${base}/tenant-a`])
    expect(run.out).toContain(VALID[0])
    expect(run.exitCode).toBe(0)
  })

  it('reads the token from stdin when TOKEN is -', async () => {
    const run = await meshguardJwt(['verify', '-', '--jwks', `${base}/jwks`], `${await accessToken()}\n`)
    expect(run.out).toContain(VALID[0])
    expect(run.exitCode).toBe(0)
  })

  const failures: [string, () => Promise<string>, string[], (jwks: string) => string][] = [
    [
      'a key that is not in the JWKS',
      async () => accessToken({}, { signer: await signer('ES256', 'k2') }),
      ['--jwks', '/jwks'],
      (jwks) => `verification failed: no matching key: the JWKS at ${jwks} has no ES256 key for kid "k2".`,
    ],
    [
      'another key under a published kid',
      async () => accessToken({}, { signer: await signer('ES256', 'k1') }),
      ['--jwks', '/jwks'],
      (jwks) => `verification failed: bad signature: the token was not signed by the ES256 key for kid "k1" in ${jwks}.`,
    ],
    [
      'an expired token',
      () => accessToken({ iat: NOW_S - 4 * 3600, exp: NOW_S - 3 * 3600 }),
      ['--jwks', '/jwks'],
      () => 'verification failed: token expired 3 hours ago (exp 2025-06-01T09:00:00Z); the signature itself is valid.',
    ],
    [
      'a token not yet valid',
      () => accessToken({ nbf: NOW_S + 300 }),
      ['--jwks', '/jwks'],
      () => 'verification failed: token not valid until 2025-06-01T12:05:00Z (in 5 minutes); the signature itself is valid.',
    ],
    [
      'typ JWT instead of at+jwt',
      () => accessToken({}, { typ: 'JWT' }),
      ['--jwks', '/jwks'],
      () => 'verification failed: token type is "JWT", expected "at+jwt" (an RFC 9068 access token); the signature itself is valid.',
    ],
    [
      'another issuer',
      () => accessToken({ iss: 'https://as.example' }),
      ['--jwks', '/jwks', '--issuer', 'https://issuer.test'],
      () => 'verification failed: wrong issuer: the token says "https://as.example", expected "https://issuer.test"; the signature itself is valid.',
    ],
    [
      'no audience',
      () => accessToken({ aud: undefined }),
      ['--jwks', '/jwks', '--audience', 'orders'],
      () => 'verification failed: wrong audience: the token has no aud claim, expected "orders"; the signature itself is valid.',
    ],
    [
      'another audience',
      () => accessToken({ aud: ['billing', 'shipping'] }),
      ['--jwks', '/jwks', '--audience', 'orders'],
      () => 'verification failed: wrong audience: the token says ["billing","shipping"], expected "orders"; the signature itself is valid.',
    ],
    [
      'an HMAC token',
      async () => new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(await generateSecret('HS256')),
      ['--jwks', '/jwks'],
      () => 'verification failed: algorithm HS256 is not accepted; only ES256, RS256, EdDSA are.',
    ],
    [
      'an unsigned token (alg none)',
      () => Promise.resolve(`${segment({ alg: 'none', typ: 'at+jwt' })}.${segment({ sub: 'alice' })}.`),
      ['--jwks', '/jwks'],
      () => 'verification failed: algorithm none is not accepted; only ES256, RS256, EdDSA are.',
    ],
    [
      'a non-numeric exp',
      () => accessToken({ exp: 'tomorrow' }),
      ['--jwks', '/jwks'],
      () => 'verification failed: malformed exp claim: "exp" claim must be a number; the signature itself is valid.',
    ],
    [
      'a JWKS URL that answers 404',
      () => accessToken(),
      ['--jwks', '/missing'],
      (jwks) => `verification failed: could not fetch the JWKS from ${jwks}: Expected 200 OK from the JSON Web Key Set HTTP response.`,
    ],
    [
      'metadata published for another issuer',
      () => accessToken({ iss: 'x' }),
      ['--issuer', '/imposter'],
      () => `verification failed: the metadata at ${base}/.well-known/oauth-authorization-server/imposter is for issuer "https://as.example", not "${base}/imposter".`,
    ],
    [
      'an issuer without metadata',
      () => accessToken(),
      ['--issuer', '/nowhere'],
      () => `verification failed: could not fetch the authorization server metadata from ${base}/.well-known/oauth-authorization-server/nowhere: HTTP 404.`,
    ],
  ]

  it.each(failures)('rejects %s with exit code 1', async (_, token, flags, message) => {
    const args = flags.map((flag) => (flag.startsWith('/') ? `${base}${flag}` : flag))
    const run = await meshguardJwt(['verify', await token(), ...args])
    expect(run.err).toEqual([message(`${base}${flags[1] ?? ''}`)])
    expect(run.out).not.toContain(VALID[0])
    expect(run.exitCode).toBe(1)
  })

  it('needs --jwks or --issuer', async () => {
    const run = await meshguardJwt(['verify', await accessToken()])
    expect(run).toEqual({ out: [''], err: ['verify needs --jwks URL, or --issuer URL to find the keys through its metadata.'], exitCode: 1 })
  })
})

describe('meshguard jwt decode', () => {
  it('says the signature was not verified', async () => {
    const run = await meshguardJwt(['decode', await accessToken({ exp: NOW_S - 3 * 3600 })])
    expect(run.out.slice(-5)).toEqual([
      '  expires at  2025-06-01T09:00:00Z (3 hours ago)',
      '  status      expired 3 hours ago',
      '',
      'signature NOT verified (use "meshguard jwt verify" to check it)',
      '',
    ])
    expect(run).toMatchObject({ err: [], exitCode: 0 })
  })

  it.each([
    ['decode', 'not-a-jwt'],
    ['verify', 'not-a-jwt', '--jwks', 'http://127.0.0.1:9/jwks'],
  ])('%s reports malformed input in one sentence on stderr', async (...args) => {
    const run = await meshguardJwt(args)
    expect(run).toEqual({
      out: [''],
      err: ['A JWT is three base64url segments joined by dots (header.payload.signature); this has 1.'],
      exitCode: 1,
    })
  })

  it('reports an empty stdin', async () => {
    const run = await meshguardJwt(['decode', '-'], '\n')
    expect(run).toEqual({ out: [''], err: ['The token is empty.'], exitCode: 1 })
  })
})

describe('metadataUrl', () => {
  it.each([
    ['https://as.example', 'https://as.example/.well-known/oauth-authorization-server'],
    ['https://as.example/', 'https://as.example/.well-known/oauth-authorization-server'],
    ['https://as.example/tenant/a', 'https://as.example/.well-known/oauth-authorization-server/tenant/a'],
  ])('of %s is %s', (issuer, url) => {
    expect(metadataUrl(issuer).href).toBe(url)
  })
})
