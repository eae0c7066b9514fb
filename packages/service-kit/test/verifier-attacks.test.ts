import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportJWK } from 'jose'
import { createVerifier, VerificationError, type Verifier, type VerificationErrorCode } from '../src/index.js'
import { b64u, claimsAt, es256Key, forge, json, type IssuerKeys } from './forge.js'

const NOW = 1_800_000_000
const ISSUER = 'https://issuer-a.test'

interface Row {
  name: string
  code: VerificationErrorCode
  token: () => string
}

/**
 * The attack table of issue 3, against the verifier every service uses: one row per attack, each
 * with the exact error code. Keys come from a real JWKS endpoint on loopback; a canary server
 * whose URL the attacks put in jku, x5u and x5c must never be called.
 */
describe('verifier attack table', () => {
  let issuerKey: IssuerKeys
  let otherIssuerKey: IssuerKeys
  let attackerKey: IssuerKeys
  let jwksServer: Server
  let canary: Server
  let canaryHits = 0
  let jwksHits = 0
  let canaryUrl: string
  let verifier: Verifier

  const header = (extra: Record<string, unknown> = {}) => json({ alg: 'ES256', typ: 'at+jwt', kid: issuerKey.kid, ...extra })
  const payload = (overrides: Record<string, unknown> = {}) => json(claimsAt(NOW, overrides))
  const good = (h = header(), p = payload()) => forge(h, p, { key: issuerKey })

  beforeAll(async () => {
    issuerKey = es256Key('a-1')
    otherIssuerKey = es256Key('b-1')
    attackerKey = es256Key('evil')
    const jwks = { keys: [{ ...(await exportJWK(issuerKey.publicKey)), kid: issuerKey.kid, alg: 'ES256', use: 'sig' }] }
    jwksServer = await listen((_req, res) => {
      jwksHits += 1
      res.setHeader('content-type', 'application/json').end(JSON.stringify(jwks))
    })
    canary = await listen((_req, res) => {
      canaryHits += 1
      res.end('{}')
    })
    canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}/keys`
    verifier = createVerifier({
      issuer: ISSUER,
      audience: 'orders',
      jwksUri: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`,
      now: () => NOW * 1000,
      jwks: { unknownKidCooldownMs: 30_000 },
    })
    await verifier.start()
  })
  afterAll(() => {
    verifier.close()
    jwksServer.close()
    canary.close()
  })

  it('accepts a well-formed token', async () => {
    const verified = await verifier.verify(good())
    expect(verified).toMatchObject({ subject: 'alice', clientId: 'web', chain: [], kid: 'a-1' })
    expect([...verified.scopes]).toEqual(['orders.read'])
  })

  const noneSignatures = ['none', 'None', 'NONE', 'nOnE']
  const rows: Row[] = [
    ...noneSignatures.map((alg) => ({ name: `alg ${alg} with an empty signature`, code: 'ERR_TOKEN_MALFORMED' as const, token: () => `${header({ alg })}.${payload()}.` })),
    ...noneSignatures.map((alg) => ({ name: `alg ${alg} with a signature`, code: 'ERR_TOKEN_ALG' as const, token: () => forge(header({ alg }), payload(), { key: issuerKey }) })),
    {
      name: 'ES256 token re-signed HS256 with the public key as the HMAC secret',
      code: 'ERR_TOKEN_ALG',
      token: () => forge(header({ alg: 'HS256' }), payload(), { hmac: issuerKey.publicKey.export({ type: 'spki', format: 'pem' }) }),
    },
    { name: 'truncated ECDSA signature', code: 'ERR_TOKEN_SIGNATURE', token: () => good().slice(0, -10) },
    { name: 'all-zero ECDSA signature', code: 'ERR_TOKEN_SIGNATURE', token: () => forge(header(), payload(), { raw: Buffer.alloc(64) }) },
    { name: 'r = 0 ECDSA signature', code: 'ERR_TOKEN_SIGNATURE', token: () => forge(header(), payload(), { raw: Buffer.concat([Buffer.alloc(32), Buffer.alloc(32, 1)]) }) },
    { name: 'null-byte signature', code: 'ERR_TOKEN_SIGNATURE', token: () => forge(header(), payload(), { raw: Buffer.alloc(1) }) },
    { name: 'DER-encoded ECDSA signature', code: 'ERR_TOKEN_SIGNATURE', token: () => forge(header(), payload(), { key: issuerKey, encoding: 'der' }) },
    ...(['jku', 'x5u'] as const).map((member) => ({
      name: `${member} header pointing at an attacker's key set`,
      code: 'ERR_TOKEN_KID_UNKNOWN' as const,
      token: () => forge(header({ kid: 'evil', [member]: canaryUrl }), payload(), { key: attackerKey }),
    })),
    {
      name: "jwk header embedding the attacker's key",
      code: 'ERR_TOKEN_KID_UNKNOWN',
      token: () => forge(header({ kid: 'evil', jwk: attackerKey.publicKey.export({ format: 'jwk' }) }), payload(), { key: attackerKey }),
    },
    {
      name: 'x5c header with a self-signed chain',
      code: 'ERR_TOKEN_KID_UNKNOWN',
      token: () => forge(header({ kid: 'evil', x5c: ['MIIB'], x5u: canaryUrl }), payload(), { key: attackerKey }),
    },
    ...(['', '../../dev/null', '|sleep 10', "' OR 1=1 --", 5, { $ne: null }] as const).map((kid) => ({
      name: `kid ${JSON.stringify(kid)}`,
      code: 'ERR_TOKEN_KID_UNKNOWN' as const,
      token: () => forge(header({ kid }), payload(), { key: issuerKey }),
    })),
    { name: 'unknown crit', code: 'ERR_TOKEN_CRIT', token: () => good(header({ crit: ['exp'], exp: 1 })) },
    { name: 'b64 false', code: 'ERR_TOKEN_CRIT', token: () => good(header({ b64: false, crit: ['b64'] })) },
    { name: 'b64 false without crit', code: 'ERR_TOKEN_CRIT', token: () => good(header({ b64: false })) },
    { name: 'padded header segment', code: 'ERR_TOKEN_MALFORMED', token: () => good(`${header()}=`) },
    ...(['+', '/'] as const).map((char) => ({
      name: `'${char}' in the signature segment`,
      code: 'ERR_TOKEN_MALFORMED' as const,
      token: () => {
        const token = good()
        const at = token.lastIndexOf('.') + 1
        return `${token.slice(0, at)}${char}${token.slice(at + 1)}`
      },
    })),
    { name: 'JWE (five segments)', code: 'ERR_TOKEN_MALFORMED', token: () => `${json({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d` },
    { name: 'payload that is an array', code: 'ERR_TOKEN_MALFORMED', token: () => good(header(), json([claimsAt(NOW)])) },
    { name: 'payload that is a string', code: 'ERR_TOKEN_MALFORMED', token: () => good(header(), json('alice')) },
    { name: 'duplicate header member', code: 'ERR_TOKEN_MALFORMED', token: () => good(b64u(`{"alg":"ES256","typ":"at+jwt","kid":"a-1","kid":"a-1"}`)) },
    { name: 'duplicate claim', code: 'ERR_TOKEN_MALFORMED', token: () => good(header(), b64u(JSON.stringify(claimsAt(NOW)).replace('"sub":"alice"', '"sub":"alice","sub":"admin"'))) },
    { name: 'expired', code: 'ERR_TOKEN_EXPIRED', token: () => good(header(), payload({ exp: NOW - 31 })) },
    { name: 'not yet valid', code: 'ERR_TOKEN_NOT_YET_VALID', token: () => good(header(), payload({ nbf: NOW + 31 })) },
    { name: 'issued in the future', code: 'ERR_TOKEN_IAT_FUTURE', token: () => good(header(), payload({ iat: NOW + 31 })) },
    { name: 'exp as a string', code: 'ERR_TOKEN_MALFORMED', token: () => good(header(), payload({ exp: String(NOW + 300) })) },
    { name: 'missing iss', code: 'ERR_TOKEN_MALFORMED', token: () => good(header(), payload({ iss: undefined })) },
    { name: 'wrong iss', code: 'ERR_TOKEN_ISSUER', token: () => good(header(), payload({ iss: 'https://issuer-b.test' })) },
    { name: 'missing aud', code: 'ERR_TOKEN_MALFORMED', token: () => good(header(), payload({ aud: undefined })) },
    { name: 'wrong aud', code: 'ERR_TOKEN_AUDIENCE', token: () => good(header(), payload({ aud: 'payments' })) },
    { name: 'empty aud array', code: 'ERR_TOKEN_MALFORMED', token: () => good(header(), payload({ aud: [] })) },
    { name: 'ID token (typ JWT) presented as an access token', code: 'ERR_TOKEN_TYP', token: () => good(header({ typ: 'JWT' }), payload({ nonce: 'n', auth_time: NOW })) },
    { name: 'no typ', code: 'ERR_TOKEN_TYP', token: () => good(json({ alg: 'ES256', kid: 'a-1' })) },
    { name: "issuer A's kid on a token claiming issuer B", code: 'ERR_TOKEN_ISSUER', token: () => good(header(), payload({ iss: 'https://issuer-b.test' })) },
    { name: "issuer B's key on a token claiming issuer A", code: 'ERR_TOKEN_KID_UNKNOWN', token: () => forge(header({ kid: otherIssuerKey.kid }), payload(), { key: otherIssuerKey }) },
    { name: '100 KB token', code: 'ERR_TOKEN_MALFORMED', token: () => good(header(), payload({ pad: 'x'.repeat(100_000) })) },
    { name: 'empty token', code: 'ERR_TOKEN_MISSING', token: () => '' },
    { name: 'payload changed after signing', code: 'ERR_TOKEN_SIGNATURE', token: () => { const [h, , s] = good().split('.'); return `${h!}.${payload({ scope: 'orders.admin' })}.${s!}` } },
  ]

  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const error = await verifier.verify(row.token()).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(error).toBeInstanceOf(VerificationError)
    expect((error as VerificationError).code).toBe(row.code)
  })

  it('never fetched anything from a URL a token named', () => {
    expect(canaryHits).toBe(0)
  })

  it('a flood of random kids makes at most one JWKS fetch per cooldown', async () => {
    const before = jwksHits
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => verifier.verify(forge(header({ kid: `random-${i}` }), payload(), { key: attackerKey })).catch(() => undefined)),
    )
    // The kid-less rows above already used this window's refetch, or this flood uses it once.
    expect(jwksHits - before).toBeLessThanOrEqual(1)
  })
})

function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer(handler)
    server.listen(0, '127.0.0.1', () => {
      resolve(server)
    })
  })
}
