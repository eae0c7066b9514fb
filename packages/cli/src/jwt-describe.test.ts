import { SignJWT, base64url, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  MalformedJwtError,
  decodeJwt,
  delegationChain,
  describeJwt,
  expiryInWords,
  relativeTime,
  renderDelegationChain,
} from './jwt-describe.js'

const NOW = Date.parse('2025-06-01T12:00:00Z')
const NOW_S = NOW / 1000
const SECOND = 1_000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const segment = (value: unknown): string => base64url.encode(JSON.stringify(value))
const HEADER = segment({ alg: 'ES256' })
const PAYLOAD = segment({ sub: 'alice' })

async function signedToken(claims: Record<string, unknown>): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256')
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }).sign(privateKey)
}

describe('decodeJwt', () => {
  it('returns the protected header and claims of a token signed with jose', async () => {
    const token = await signedToken({ iss: 'https://as.example', sub: 'alice', exp: NOW_S + 600 })
    expect(decodeJwt(token)).toEqual({
      header: { alg: 'ES256', typ: 'at+jwt', kid: 'k1' },
      claims: { iss: 'https://as.example', sub: 'alice', exp: NOW_S + 600 },
    })
  })

  it('ignores surrounding whitespace, as read from stdin', async () => {
    const token = await signedToken({ sub: 'alice' })
    expect(decodeJwt(`  ${token}\n`).claims).toEqual({ sub: 'alice' })
  })

  it.each([
    ['empty input', '', 'The token is empty.'],
    ['only whitespace', ' \n', 'The token is empty.'],
    ['one segment', 'abc', 'A JWT is three base64url segments joined by dots (header.payload.signature); this has 1.'],
    ['two segments', `${HEADER}.${PAYLOAD}`, 'A JWT is three base64url segments joined by dots (header.payload.signature); this has 2.'],
    ['four segments', `${HEADER}.${PAYLOAD}.sig.x`, 'A JWT is three base64url segments joined by dots (header.payload.signature); this has 4.'],
    ['a JWE', 'a.b.c.d.e', 'This is an encrypted JWT (JWE, five segments); only signed JWTs can be decoded.'],
    ['empty header', `.${PAYLOAD}.sig`, 'The header segment is empty.'],
    ['empty payload', `${HEADER}..sig`, 'The payload segment is empty.'],
    ['base64 "+" in header', `ab+c.${PAYLOAD}.sig`, 'The header segment is not base64url: "+" is not allowed.'],
    ['padding in payload', `${HEADER}.${PAYLOAD}=.sig`, 'The payload segment is not base64url: "=" is not allowed.'],
    ['space in signature', `${HEADER}.${PAYLOAD}.si g`, 'The signature segment is not base64url: " " is not allowed.'],
    ['impossible length', `${HEADER}.abcde.sig`, 'The payload segment is not valid base64url-encoded UTF-8.'],
    ['invalid UTF-8', `${base64url.encode(new Uint8Array([0xff, 0xfe]))}.${PAYLOAD}.sig`, 'The header segment is not valid base64url-encoded UTF-8.'],
    ['header not JSON', `${base64url.encode('alg: ES256')}.${PAYLOAD}.sig`, 'The header is not JSON.'],
    ['payload not JSON', `${HEADER}.${base64url.encode('{"sub":')}.sig`, 'The payload is not JSON.'],
    ['header an array', `${segment(['ES256'])}.${PAYLOAD}.sig`, 'The header is JSON but not an object (it is an array).'],
    ['payload a string', `${HEADER}.${segment('alice')}.sig`, 'The payload is JSON but not an object (it is a string).'],
    ['payload a number', `${HEADER}.${segment(42)}.sig`, 'The payload is JSON but not an object (it is a number).'],
    ['payload null', `${HEADER}.${segment(null)}.sig`, 'The payload is JSON but not an object (it is null).'],
  ])('rejects %s', (_, token, message) => {
    expect(() => decodeJwt(token)).toThrow(new MalformedJwtError(message))
  })

  it('accepts an empty signature segment (alg none), which verify will refuse', () => {
    expect(decodeJwt(`${segment({ alg: 'none' })}.${PAYLOAD}.`).header).toEqual({ alg: 'none' })
  })
})

describe('relativeTime', () => {
  it.each([
    [0, 'now'],
    [499, 'now'],
    [-499, 'now'],
    [999, 'in 1 second'],
    [1 * SECOND, 'in 1 second'],
    [45 * SECOND, 'in 45 seconds'],
    [-45 * SECOND, '45 seconds ago'],
    [60 * SECOND, 'in 1 minute'],
    [9 * MINUTE + 59 * SECOND, 'in 9 minutes'],
    [HOUR - 400, 'in 1 hour'],
    [-9 * MINUTE, '9 minutes ago'],
    [HOUR, 'in 1 hour'],
    [-3 * HOUR - 59 * MINUTE, '3 hours ago'],
    [23 * HOUR, 'in 23 hours'],
    [DAY, 'in 1 day'],
    [-2 * DAY - 5 * HOUR, '2 days ago'],
    [400 * DAY, 'in 400 days'],
  ])('%i ms from now reads "%s"', (offset, words) => {
    expect(relativeTime(NOW + offset, NOW)).toBe(words)
  })
})

describe('expiryInWords', () => {
  it.each([
    [{ exp: NOW_S + 540 }, 'expires in 9 minutes'],
    [{ exp: NOW_S - 3 * 3600 }, 'expired 3 hours ago'],
    [{ exp: NOW_S }, 'expired just now'],
    [{ exp: NOW_S + 0.25 }, 'expires in less than a second'],
    [{ exp: NOW_S + 3600, nbf: NOW_S + 300 }, 'not valid until 2025-06-01T12:05:00Z (in 5 minutes)'],
    [{ exp: NOW_S + 3600, nbf: NOW_S - 300 }, 'expires in 1 hour'],
    [{ sub: 'alice' }, 'never expires (no exp claim)'],
    [{ exp: 'tomorrow' }, 'expiry unknown: exp is not a NumericDate'],
  ])('%j reads "%s"', (claims, words) => {
    expect(expiryInWords(claims, NOW)).toBe(words)
  })
})

describe('delegation chain', () => {
  it('is empty at depth 0, without act', () => {
    expect(delegationChain({ sub: 'alice' })).toEqual([])
    expect(renderDelegationChain({ sub: 'alice' })).toEqual([])
  })

  it('at depth 1 shows the subject and the actor acting now', () => {
    expect(renderDelegationChain({ sub: 'alice', act: { sub: 'order-service' } })).toEqual([
      'Delegation chain (RFC 8693 act: the subject, then actors from newest to oldest)',
      '  1. alice          subject',
      '  2. order-service  acting now',
    ])
  })

  it('at depth 3 lists the outer act first and each nested act after it', () => {
    const claims = {
      sub: 'alice',
      act: { sub: 'checkout', iss: 'https://as.example', act: { sub: 'order-service', act: { sub: 'cart-service' } } },
    }
    expect(delegationChain(claims)).toEqual([
      { name: 'alice', role: 'subject' },
      { name: 'checkout (iss https://as.example)', role: 'acting now' },
      { name: 'order-service', role: 'earlier actor' },
      { name: 'cart-service', role: 'earlier actor' },
    ])
    expect(renderDelegationChain(claims)).toEqual([
      'Delegation chain (RFC 8693 act: the subject, then actors from newest to oldest)',
      '  1. alice                              subject',
      '  2. checkout (iss https://as.example)  acting now',
      '  3. order-service                      earlier actor',
      '  4. cart-service                       earlier actor',
    ])
  })

  it('names a party without sub, and stops at an act that is not an object', () => {
    expect(delegationChain({ act: { client_id: 'x', act: 'cart-service' } })).toEqual([
      { name: '(no sub)', role: 'subject' },
      { name: '(no sub)', role: 'acting now' },
    ])
  })
})

describe('describeJwt', () => {
  it('prints header, claims, summary and chain of a token signed with jose', async () => {
    const token = await signedToken({
      iss: 'https://as.example',
      sub: 'alice',
      client_id: 'order-service',
      aud: ['https://orders.example', 'https://billing.example'],
      scope: 'orders:read orders:write',
      iat: NOW_S - 120,
      nbf: NOW_S - 120,
      exp: NOW_S + 540,
      act: { sub: 'order-service', act: { sub: 'cart-service' } },
    })
    expect(describeJwt(token, NOW).split('\n')).toEqual([
      'Header',
      '{',
      '  "alg": "ES256",',
      '  "typ": "at+jwt",',
      '  "kid": "k1"',
      '}',
      '',
      'Claims',
      '{',
      '  "iss": "https://as.example",',
      '  "sub": "alice",',
      '  "client_id": "order-service",',
      '  "aud": [',
      '    "https://orders.example",',
      '    "https://billing.example"',
      '  ],',
      '  "scope": "orders:read orders:write",',
      '  "iat": 1748779080,',
      '  "nbf": 1748779080,',
      '  "exp": 1748779740,',
      '  "act": {',
      '    "sub": "order-service",',
      '    "act": {',
      '      "sub": "cart-service"',
      '    }',
      '  }',
      '}',
      '',
      'Summary',
      '  issuer      https://as.example',
      '  subject     alice',
      '  client_id   order-service',
      '  audience    https://orders.example, https://billing.example',
      '  scope       orders:read orders:write',
      '  issued at   2025-06-01T11:58:00Z (2 minutes ago)',
      '  not before  2025-06-01T11:58:00Z (2 minutes ago)',
      '  expires at  2025-06-01T12:09:00Z (in 9 minutes)',
      '  status      expires in 9 minutes',
      '',
      'Delegation chain (RFC 8693 act: the subject, then actors from newest to oldest)',
      '  1. alice          subject',
      '  2. order-service  acting now',
      '  3. cart-service   earlier actor',
      '',
    ])
  })

  it('shows claims of unexpected types as JSON in the summary', () => {
    const token = `${HEADER}.${segment({ sub: 42, aud: [1], exp: 'soon' })}.sig`
    expect(describeJwt(token, NOW).split('\n').slice(-5)).toEqual([
      '  subject     42',
      '  audience    [1]',
      '  expires at  not a NumericDate: "soon"',
      '  status      expiry unknown: exp is not a NumericDate',
      '',
    ])
  })
})
