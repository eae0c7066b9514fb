/**
 * Access-token verification per second on one core, for ES256, RS256 and EdDSA: the service
 * kit's verifier (uncached and cached) beside raw node:crypto verify of the same signature (the
 * ceiling), jose's jwtVerify and fast-jwt, all with the same checks asked for (issuer, audience,
 * algorithm). Prints ratios; asserts nothing.
 *
 * Usage: node bench/dist/verify.js [--seconds=2]
 */
import { verify as cryptoVerify } from 'node:crypto'
import { createVerifier as fastJwtVerifier } from 'fast-jwt'
import { exportJWK, jwtVerify } from 'jose'
import { encodeAccessToken, type AccessTokenClaims } from '@meshguard/token'
import { createVerifier, type StaticKey } from '@meshguard/service-kit'
import { keyPair, secondsFlag } from './key-pairs.js'
import { ratePerSecond } from './measure-rate.js'

const seconds = secondsFlag()
const ISSUER = 'https://auth.bench.example'


const rate = (operation: () => unknown) => ratePerSecond(seconds, operation)

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10)
console.log(`access-token verification, one core, node ${process.version}, ${seconds}s per cell`)
console.log('alg    raw crypto   meshguard  mg cached        jose    fast-jwt   mg/raw  mg/jose  mg/fast-jwt')
for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
  const { privateKey, publicKey } = keyPair(alg)
  const now = Math.floor(Date.now() / 1000)
  const claims: AccessTokenClaims = { iss: ISSUER, sub: 'svc', aud: 'api', exp: now + 3600, iat: now, nbf: now, jti: crypto.randomUUID(), client_id: 'svc', scope: 'api.read' }
  const token = encodeAccessToken(claims, { kid: 'k1', alg, privateKey })
  const dot = token.lastIndexOf('.')
  const input = Buffer.from(token.slice(0, dot))
  const signature = Buffer.from(token.slice(dot + 1), 'base64url')
  const verifyKey = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const } : publicKey
  const digest = alg === 'EdDSA' ? null : 'sha256'

  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg } as StaticKey
  const uncached = createVerifier({ issuer: ISSUER, audience: 'api', keys: [jwk], cacheSize: 0 })
  const cached = createVerifier({ issuer: ISSUER, audience: 'api', keys: [jwk] })
  const fast = fastJwtVerifier({ key: publicKey.export({ type: 'spki', format: 'pem' }).toString(), algorithms: [alg], allowedIss: ISSUER, allowedAud: 'api', cache: false })

  const raw = await rate(() => cryptoVerify(digest, input, verifyKey, signature))
  const mg = await rate(() => uncached.verify(token))
  const mgCached = await rate(() => cached.verify(token))
  const jose = await rate(() => jwtVerify(token, publicKey, { issuer: ISSUER, audience: 'api', algorithms: [alg], typ: 'at+jwt' }))
  const fastJwt = await rate(() => fast(token))
  console.log(
    `${alg.padEnd(6)} ${fmt(raw)}  ${fmt(mg)} ${fmt(mgCached)}  ${fmt(jose)}  ${fmt(fastJwt)}   ${(mg / raw).toFixed(2)}x   ${(mg / jose).toFixed(2)}x   ${(mg / fastJwt).toFixed(2)}x`,
  )
}
