import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'

export const b64u = (value: string | Buffer) => Buffer.from(value).toString('base64url')
export const json = (value: unknown) => b64u(JSON.stringify(value))

export interface IssuerKeys {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
}

export function es256Key(kid: string): IssuerKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { kid, privateKey, publicKey }
}

/** Signs `header.payload` exactly as given, so tests control every byte. */
export function forge(
  header: string,
  payload: string,
  signWith: { key: IssuerKeys; encoding?: 'ieee-p1363' | 'der' } | { hmac: Buffer | string } | { raw: Buffer },
): string {
  const input = `${header}.${payload}`
  let signature: Buffer
  if ('raw' in signWith) signature = signWith.raw
  else if ('hmac' in signWith) signature = createHmac('sha256', signWith.hmac).update(input).digest()
  else signature = sign('sha256', Buffer.from(input), { key: signWith.key.privateKey, dsaEncoding: signWith.encoding ?? 'ieee-p1363' })
  return `${input}.${b64u(signature)}`
}

export function claimsAt(nowSec: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: 'https://issuer-a.test',
    sub: 'alice',
    aud: 'orders',
    exp: nowSec + 300,
    iat: nowSec,
    nbf: nowSec,
    jti: `jti-${Math.random()}`,
    client_id: 'web',
    scope: 'orders.read',
    ...overrides,
  }
}
