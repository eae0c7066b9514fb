import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose'
import { describe, expect, it } from 'vitest'
import type { SigningAlgorithm } from './algorithms.js'
import {
  ACCESS_TOKEN_TYP,
  MAX_TOKEN_LENGTH,
  encodeAccessToken,
  verifyAccessToken,
  type AccessTokenFailure,
  type VerificationKey,
  type VerifyOptions,
} from './access-token.js'
import type { AccessTokenClaims } from './claims.js'

const NOW = 1_750_000_000
const TOLERANCE = 30
const ISSUER = 'https://auth.example.com'

interface TestKey {
  kid: string
  alg: SigningAlgorithm
  privateKey: KeyObject
  publicKey: KeyObject
}

function makeKey(alg: SigningAlgorithm, kid: string, rsaModulusLength = 2048): TestKey {
  switch (alg) {
    case 'ES256':
      return { kid, alg, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) }
    case 'RS256':
      return { kid, alg, ...generateKeyPairSync('rsa', { modulusLength: rsaModulusLength }) }
    case 'EdDSA':
      return { kid, alg, ...generateKeyPairSync('ed25519') }
  }
}

const es = makeKey('ES256', 'es-1')
const rs = makeKey('RS256', 'rs-1')
const ed = makeKey('EdDSA', 'ed-1')
const weakRsa = makeKey('RS256', 'rs-weak', 1024)
const keys = [es, rs, ed]

const registered = new Map<string, VerificationKey>([
  ...keys.map((key) => [key.kid, { alg: key.alg, publicKey: key.publicKey }] as const),
  [weakRsa.kid, { alg: 'RS256', publicKey: weakRsa.publicKey }],
  ['es-holding-ed25519', { alg: 'ES256', publicKey: ed.publicKey }],
])

const options: VerifyOptions = {
  issuer: ISSUER,
  now: NOW,
  clockToleranceSec: TOLERANCE,
  keyFor: (kid) => registered.get(kid),
}

const claims: AccessTokenClaims = {
  iss: ISSUER,
  sub: 'orders-service',
  aud: 'https://payments.example.com',
  exp: NOW + 600,
  iat: NOW,
  nbf: NOW,
  jti: 'jti-1',
  client_id: 'orders-service',
  scope: 'payments:charge',
}

/** A JWS signature made directly with node:crypto, so every byte of the token is ours. */
function signWith(key: TestKey, input: string, dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): Buffer {
  switch (key.alg) {
    case 'ES256':
      return sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding })
    case 'RS256':
      return sign('sha256', Buffer.from(input), key.privateKey)
    case 'EdDSA':
      return sign(null, Buffer.from(input), key.privateKey)
  }
}

const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const headerFor = (key: TestKey, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  alg: key.alg,
  typ: ACCESS_TOKEN_TYP,
  kid: key.kid,
  ...extra,
})
const without = (value: Record<string, unknown>, name: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(value).filter(([key]) => key !== name))

/** `header.payload.signature` from already-encoded segments, signed by `signer` unless a signature is given. */
function compact(encodedHeader: string, encodedPayload: string, signature: Buffer | ((input: string) => Buffer)): string {
  const input = `${encodedHeader}.${encodedPayload}`
  const bytes = typeof signature === 'function' ? signature(input) : signature
  return `${input}.${bytes.toString('base64url')}`
}

/** A token with the given header and claims, properly signed by `key` (ES256 unless named). */
function token(header: unknown = headerFor(es), payload: unknown = claims, key: TestKey = es): string {
  return compact(segment(header), segment(payload), (input) => signWith(key, input))
}

/** Standard base64 with padding; refuses values that would need none, so the row keeps testing what it says. */
function padded(bytes: Buffer): string {
  const encoded = bytes.toString('base64')
  if (!encoded.endsWith('=')) throw new Error('test fixture needs a value whose base64 is padded')
  return encoded
}

function es256Signature(input: string): Buffer {
  return signWith(es, input)
}

const valid = token()
const [validHeader, validPayload, validSignature] = valid.split('.') as [string, string, string]

/** The same signature bytes, but with non-zero bits in the unused tail of the last character. */
function nonCanonical(encoded: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(encoded.at(-1)!)
  return encoded.slice(0, -1) + alphabet[last | 1]!
}

/** Claims whose JSON has `>` and `?` at every offset, so standard base64 has `+` and `/` where base64url has `-` and `_`. */
const claimsWithBase64Specials = { ...claims, note: '>>>???' }

function hmacWithPublicKey(key: TestKey) {
  const secret = key.publicKey.export({ format: 'pem', type: 'spki' })
  return (input: string): Buffer => createHmac('sha256', secret).update(input).digest()
}

describe('encodeAccessToken / verifyAccessToken round trip', () => {
  it.each(keys.map((key) => [key.alg, key] as const))('%s', async (alg, key) => {
    const encoded = encodeAccessToken(claims, { kid: key.kid, alg, privateKey: key.privateKey })

    expect(verifyAccessToken(encoded, options)).toEqual({ ok: true, kid: key.kid, claims })
    expect(decodeProtectedHeader(encoded)).toEqual({ alg, typ: 'at+jwt', kid: key.kid })

    const publicJwk = key.publicKey.export({ format: 'jwk' }) as JWK
    const { payload, protectedHeader } = await jwtVerify(encoded, await importJWK(publicJwk, alg), {
      issuer: ISSUER,
      typ: 'at+jwt',
      algorithms: [alg],
      currentDate: new Date(NOW * 1000),
    })
    expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: key.kid })
    expect(payload).toEqual(claims)
  })

  it('reuses the header for the same signer and still signs each token', () => {
    const signer = { kid: es.kid, alg: es.alg, privateKey: es.privateKey }
    const first = encodeAccessToken(claims, signer)
    const second = encodeAccessToken({ ...claims, jti: 'jti-2' }, signer)
    expect(first.split('.')[0]).toBe(second.split('.')[0])
    expect(verifyAccessToken(second, options)).toMatchObject({ ok: true, claims: { jti: 'jti-2' } })
  })
})

describe('verifyAccessToken accepts', () => {
  const rows: Array<[string, string]> = [
    ['an RS256 token signed with node:crypto', token(headerFor(rs), claims, rs)],
    ['an EdDSA token signed with node:crypto', token(headerFor(ed), claims, ed)],
    ['an ES256 token signed with node:crypto', token()],
    ['typ "at+JWT" (media types are case-insensitive, RFC 9068 §2.1)', token(headerFor(es, { typ: 'at+JWT' }))],
    ['typ "AT+JWT"', token(headerFor(es, { typ: 'AT+JWT' }))],
    ['typ "application/at+jwt"', token(headerFor(es, { typ: 'application/at+jwt' }))],
    ['exp within the leeway', token(undefined, { ...claims, exp: NOW - TOLERANCE + 1 })],
    ['nbf at the edge of the leeway', token(undefined, { ...claims, nbf: NOW + TOLERANCE })],
    // RFC 9068 §2.2 does not require nbf; oidc-provider, for one, does not send it.
    ['no nbf', token(undefined, without({ ...claims }, 'nbf'))],
    ['iat at the edge of the leeway', token(undefined, { ...claims, iat: NOW + TOLERANCE })],
    ['aud as an array', token(undefined, { ...claims, aud: ['https://a.example', 'https://b.example'] })],
    ['a certificate binding (RFC 8705 cnf x5t#S256)', token(undefined, { ...claims, cnf: { 'x5t#S256': 'A'.repeat(43) } })],
  ]

  it.each(rows)('%s', (_, encoded) => {
    expect(verifyAccessToken(encoded, options)).toMatchObject({ ok: true })
  })
})

describe('verifyAccessToken rejects', () => {
  const longClaims = { ...claims, note: 'x'.repeat(MAX_TOKEN_LENGTH) }
  const otherKeys = { ES256: makeKey('ES256', es.kid), RS256: makeKey('RS256', rs.kid), EdDSA: makeKey('EdDSA', ed.kid) }

  const rows: Array<[string, string, AccessTokenFailure]> = [
    // Compact serialization (RFC 7515 §7.1)
    ['an empty string', '', 'malformed'],
    ['one segment', validHeader, 'malformed'],
    ['two segments', `${validHeader}.${validPayload}`, 'malformed'],
    ['four segments', `${valid}.${validSignature}`, 'malformed'],
    ['five segments (a JWE)', `${valid}.a.b`, 'malformed'],
    [`a token longer than ${MAX_TOKEN_LENGTH} characters`, token(undefined, longClaims), 'malformed'],

    // Strict base64url (RFC 7515 §2)
    ['a signature in padded base64', `${validHeader}.${validPayload}.${padded(Buffer.from(validSignature, 'base64url'))}`, 'malformed'],
    ['a header in padded base64', compact(padded(Buffer.from(JSON.stringify(headerFor(es)))), validPayload, es256Signature), 'malformed'],
    ['"=" after the payload', compact(validHeader, `${validPayload}=`, es256Signature), 'malformed'],
    [
      'a payload in standard base64 with "+" and "/"',
      compact(validHeader, Buffer.from(JSON.stringify(claimsWithBase64Specials)).toString('base64').replace(/=+$/, ''), es256Signature),
      'malformed',
    ],
    ['a signature with "+" and "/" for "-" and "_"', `${validHeader}.${validPayload}.${validSignature.replace(/^./, '+').replace(/.$/, '/')}`, 'malformed'],
    ['a signature with non-canonical trailing bits', `${validHeader}.${validPayload}.${nonCanonical(validSignature)}`, 'malformed'],
    ['whitespace inside a segment', `${validHeader}.${validPayload}.${validSignature.slice(0, 10)} ${validSignature.slice(10)}`, 'malformed'],
    ['an empty signature', `${validHeader}.${validPayload}.`, 'malformed'],

    // Header shape
    ['a header that is an array', token([headerFor(es)]), 'malformed'],
    ['a header that is a number', token(5), 'malformed'],
    ['a header that is null', token(null), 'malformed'],
    ['a header that is not JSON', compact(Buffer.from('{alg:ES256}').toString('base64url'), validPayload, es256Signature), 'malformed'],
    ['an empty header', compact('', validPayload, es256Signature), 'malformed'],

    // Unsecured JWS and algorithm confusion (RFC 8725 §2.1, §3.1)
    ['alg "none" with an empty signature', `${segment(headerFor(es, { alg: 'none' }))}.${validPayload}.`, 'malformed'],
    ['alg "NONE" with an empty signature', `${segment(headerFor(es, { alg: 'NONE' }))}.${validPayload}.`, 'malformed'],
    ['alg "None" with an empty signature', `${segment(headerFor(es, { alg: 'None' }))}.${validPayload}.`, 'malformed'],
    ['alg "none" with a real signature', token(headerFor(es, { alg: 'none' })), 'unsupported_alg'],
    ['no alg', token(without(headerFor(es), 'alg')), 'unsupported_alg'],
    ['alg "es256" in lower case', token(headerFor(es, { alg: 'es256' })), 'unsupported_alg'],
    [
      'HS256 keyed with the RS256 public key PEM',
      compact(segment(headerFor(rs, { alg: 'HS256' })), validPayload, hmacWithPublicKey(rs)),
      'unsupported_alg',
    ],
    [
      'HS256 keyed with the ES256 public key PEM',
      compact(segment(headerFor(es, { alg: 'HS256' })), validPayload, hmacWithPublicKey(es)),
      'unsupported_alg',
    ],
    ['alg RS256 on an ES256 kid', token(headerFor(es, { alg: 'RS256' }), claims, rs), 'unsupported_alg'],
    ['alg EdDSA on an ES256 kid', token(headerFor(es, { alg: 'EdDSA' }), claims, ed), 'unsupported_alg'],
    ['alg ES256 on an EdDSA kid', token(headerFor(ed, { alg: 'ES256' })), 'unsupported_alg'],
    ['an RS256 kid whose key has a 1024-bit modulus', token(headerFor(weakRsa), claims, weakRsa), 'unsupported_alg'],
    ['an ES256 kid that holds an Ed25519 key', token({ alg: 'ES256', typ: 'at+jwt', kid: 'es-holding-ed25519' }), 'unsupported_alg'],

    // ES256 signature encoding (RFC 7518 §3.4, CVE-2022-21449)
    ['an all-zero ES256 signature', compact(validHeader, validPayload, Buffer.alloc(64)), 'bad_signature'],
    ['an ES256 signature with r = 0', compact(validHeader, validPayload, Buffer.concat([Buffer.alloc(32), Buffer.from(validSignature, 'base64url').subarray(32)])), 'bad_signature'],
    ['an ES256 signature with s = 0', compact(validHeader, validPayload, Buffer.concat([Buffer.from(validSignature, 'base64url').subarray(0, 32), Buffer.alloc(32)])), 'bad_signature'],
    ['a DER-encoded ES256 signature', compact(validHeader, validPayload, (input) => signWith(es, input, 'der')), 'bad_signature'],
    ['a truncated ES256 signature', compact(validHeader, validPayload, (input) => signWith(es, input).subarray(0, 63)), 'bad_signature'],
    ['an ES256 signature with a byte appended', compact(validHeader, validPayload, (input) => Buffer.concat([signWith(es, input), Buffer.of(0)])), 'bad_signature'],

    // typ (RFC 9068 §4, RFC 8725 §3.11)
    ['no typ', token(without(headerFor(es), 'typ')), 'wrong_typ'],
    ['typ "JWT"', token(headerFor(es, { typ: 'JWT' })), 'wrong_typ'],
    ['typ "application/jwt"', token(headerFor(es, { typ: 'application/jwt' })), 'wrong_typ'],
    ['typ "at+jwt " with a trailing space', token(headerFor(es, { typ: 'at+jwt ' })), 'wrong_typ'],
    ['typ as an array', token(headerFor(es, { typ: ['at+jwt'] })), 'wrong_typ'],

    // kid
    ['an unknown kid', token(headerFor(es, { kid: 'no-such-key' })), 'unknown_kid'],
    ['no kid', token(without(headerFor(es), 'kid')), 'unknown_kid'],
    ['kid ""', token(headerFor(es, { kid: '' })), 'unknown_kid'],
    ['kid "../../dev/null"', token(headerFor(es, { kid: '../../dev/null' })), 'unknown_kid'],
    ['kid "__proto__"', token(headerFor(es, { kid: '__proto__' })), 'unknown_kid'],
    ['kid as the number 5', token(headerFor(es, { kid: 5 })), 'unknown_kid'],
    ['kid as an object', token(headerFor(es, { kid: { kid: es.kid } })), 'unknown_kid'],
    ['kid null', token(headerFor(es, { kid: null })), 'unknown_kid'],

    // crit (RFC 7515 §4.1.11)
    ['crit ["exp"]', token(headerFor(es, { crit: ['exp'], exp: NOW + 600 })), 'crit'],
    ['an empty crit', token(headerFor(es, { crit: [] })), 'crit'],

    // Signature
    ...keys.map((key): [string, string, AccessTokenFailure] => [
      `an ${key.alg} signature from a different key with the same kid`,
      token(headerFor(key), claims, otherKeys[key.alg]),
      'bad_signature',
    ]),
    ['a payload modified after signing', `${validHeader}.${segment({ ...claims, scope: 'payments:refund' })}.${validSignature}`, 'bad_signature'],
    ['a header modified after signing', `${segment(headerFor(es, { jku: 'https://evil.example/jwks' }))}.${validPayload}.${validSignature}`, 'bad_signature'],
    ['a signature from another token', `${validHeader}.${validPayload}.${token(undefined, { ...claims, jti: 'other' }).split('.')[2]!}`, 'bad_signature'],

    // Claims shape (checked after the signature)
    ['a payload that is an array', token(undefined, [claims]), 'malformed'],
    ['a payload that is a number', token(undefined, 42), 'malformed'],
    ['a payload that is a string', token(undefined, 'claims'), 'malformed'],
    ['a payload that is not JSON', compact(validHeader, Buffer.from('{"iss":').toString('base64url'), es256Signature), 'malformed'],
    ['exp as a string', token(undefined, { ...claims, exp: String(NOW + 600) }), 'malformed'],
    ['exp null', token(undefined, { ...claims, exp: null }), 'malformed'],
    ['no exp', token(undefined, without({ ...claims }, 'exp')), 'malformed'],
    ['no iat', token(undefined, without({ ...claims }, 'iat')), 'malformed'],
    ['nbf as a string', token(undefined, { ...claims, nbf: String(NOW) }), 'malformed'],
    ['no iss', token(undefined, without({ ...claims }, 'iss')), 'malformed'],
    ['no sub', token(undefined, without({ ...claims }, 'sub')), 'malformed'],
    ['no jti', token(undefined, without({ ...claims }, 'jti')), 'malformed'],
    ['no client_id', token(undefined, without({ ...claims }, 'client_id')), 'malformed'],
    ['no scope', token(undefined, without({ ...claims }, 'scope')), 'malformed'],
    // Confirmation (RFC 7800, RFC 8705): only a binding the verifier can enforce
    ['cnf with a DPoP jkt, which cannot be enforced here', token(undefined, { ...claims, cnf: { jkt: 'A'.repeat(43) } }), 'malformed'],
    ['cnf with x5t#S256 and a jwk', token(undefined, { ...claims, cnf: { 'x5t#S256': 'A'.repeat(43), jwk: {} } }), 'malformed'],
    ['cnf x5t#S256 of the wrong length', token(undefined, { ...claims, cnf: { 'x5t#S256': 'A'.repeat(42) } }), 'malformed'],
    ['cnf x5t#S256 in base64 with padding', token(undefined, { ...claims, cnf: { 'x5t#S256': `${'A'.repeat(43)}=` } }), 'malformed'],
    ['cnf as a string', token(undefined, { ...claims, cnf: 'bound' }), 'malformed'],
    ['an empty cnf', token(undefined, { ...claims, cnf: {} }), 'malformed'],
    ['no aud', token(undefined, without({ ...claims }, 'aud')), 'malformed'],
    ['aud an empty array', token(undefined, { ...claims, aud: [] }), 'malformed'],
    ['aud with a number in it', token(undefined, { ...claims, aud: ['https://a.example', 1] }), 'malformed'],
    ['scope as an array', token(undefined, { ...claims, scope: ['payments:charge'] }), 'malformed'],

    // Claim values (RFC 7519 §4.1)
    ['another issuer', token(undefined, { ...claims, iss: 'https://evil.example.com' }), 'wrong_issuer'],
    ['the issuer with a trailing slash', token(undefined, { ...claims, iss: `${ISSUER}/` }), 'wrong_issuer'],
    ['exp one second past the leeway', token(undefined, { ...claims, exp: NOW - TOLERANCE - 1 }), 'expired'],
    ['exp exactly at the leeway', token(undefined, { ...claims, exp: NOW - TOLERANCE }), 'expired'],
    ['nbf beyond the leeway', token(undefined, { ...claims, nbf: NOW + TOLERANCE + 1 }), 'not_yet_valid'],
    ['iat beyond the leeway', token(undefined, { ...claims, iat: NOW + TOLERANCE + 1 }), 'issued_in_future'],
  ]

  it.each(rows)('%s', (_, encoded, reason) => {
    expect(verifyAccessToken(encoded, options)).toEqual({ ok: false, reason })
  })
})
