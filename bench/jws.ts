/**
 * Access-token signing and verification per second, in one process on one core: Meshguard's
 * node:crypto path beside jose's SignJWT / jwtVerify on the same keys and claims, and the raw
 * node:crypto sign / verify as the ceiling. Prints ratios; asserts nothing.
 */
import { sign, verify } from 'node:crypto'
import { SignJWT, jwtVerify } from 'jose'
import { encodeAccessToken, verifyAccessToken, type AccessTokenClaims, type SigningAlgorithm } from '@meshguard/auth-server'
import { keyPair, secondsFlag } from './key-pairs.js'
import { ratePerSecond } from './measure-rate.js'

type Alg = SigningAlgorithm
const ISSUER = 'https://auth.bench.example'
const seconds = secondsFlag()


const rate = (operation: () => unknown) => ratePerSecond(seconds, operation)

const rows: Array<{ alg: Alg; operation: string; meshguard: number; jose: number; raw: number }> = []
for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
  const { privateKey, publicKey } = keyPair(alg)
  const signer = { kid: 'bench', alg, privateKey }
  const now = Math.floor(Date.now() / 1000)
  const claims: AccessTokenClaims = { iss: ISSUER, sub: 'svc', aud: 'api', exp: now + 600, iat: now, nbf: now, jti: 'abcdefghijklmnopqrstuv', client_id: 'svc', scope: 'api.read api.write' }
  const digest = alg === 'EdDSA' ? null : 'sha256'
  const signOptions = alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' as const } : privateKey
  const verifyKey = alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const } : publicKey
  const token = encodeAccessToken(claims, signer)
  const [input, signature] = [token.slice(0, token.lastIndexOf('.')), Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url')]

  rows.push({
    alg,
    operation: 'sign',
    meshguard: await rate(() => encodeAccessToken({ ...claims }, signer)),
    jose: await rate(() => new SignJWT({ ...claims }).setProtectedHeader({ alg, typ: 'at+jwt', kid: 'bench' }).sign(privateKey)),
    raw: await rate(() => sign(digest, Buffer.from(input), signOptions)),
  })
  const options = { issuer: ISSUER, now, clockToleranceSec: 30, keyFor: () => ({ alg, publicKey }) }
  rows.push({
    alg,
    operation: 'verify',
    meshguard: await rate(() => verifyAccessToken(token, options)),
    jose: await rate(() => jwtVerify(token, publicKey, { issuer: ISSUER, typ: 'at+jwt', algorithms: [alg] })),
    raw: await rate(() => verify(digest, Buffer.from(input), verifyKey, signature)),
  })
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9)
console.log(`access-token JWS, one core, node ${process.version}, ${seconds}s per cell`)
console.log('alg    op       meshguard      jose  raw crypto  meshguard/jose  meshguard/raw')
for (const row of rows) {
  console.log(
    `${row.alg.padEnd(6)} ${row.operation.padEnd(6)} ${fmt(row.meshguard)} ${fmt(row.jose)}   ${fmt(row.raw)}  ${(row.meshguard / row.jose).toFixed(2).padStart(13)}x  ${(row.meshguard / row.raw).toFixed(2).padStart(12)}x`,
  )
}
