import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { SigningAlgorithm } from '@meshguard/token'

export interface GeneratedKey {
  kid: string
  alg: SigningAlgorithm
  privateKey: KeyObject
  publicJwk: JWK
}

/**
 * A fresh signing key. The `kid` is the key's RFC 7638 thumbprint, so it names the key
 * material itself and can never be reused for another key.
 */
export async function generateSigningKey(alg: SigningAlgorithm, rsaModulusLength = 2048): Promise<GeneratedKey> {
  const { privateKey, publicKey } = generatePair(alg, rsaModulusLength)
  const jwk = publicKey.export({ format: 'jwk' }) as JWK
  const kid = await calculateJwkThumbprint(jwk, 'sha256')
  return { kid, alg, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } }
}

function generatePair(alg: SigningAlgorithm, rsaModulusLength: number): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: Math.max(2048, rsaModulusLength) })
    case 'EdDSA':
      return generateKeyPairSync('ed25519')
  }
}
