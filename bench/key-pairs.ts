import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { SigningAlgorithm } from '@meshguard/token'

/** A fresh key pair for a JWS algorithm (RSA at 2048 bits). */
export function keyPair(alg: SigningAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' })
  if (alg === 'RS256') return generateKeyPairSync('rsa', { modulusLength: 2048 })
  return generateKeyPairSync('ed25519')
}

/** `--seconds=N` from the command line, default 2. */
export function secondsFlag(): number {
  return Number(process.argv.find((arg) => arg.startsWith('--seconds='))?.split('=')[1] ?? 2)
}
