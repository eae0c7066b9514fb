import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { decodeBase64url } from '@meshguard/token'

/** scrypt's cost parameters (RFC 7914 §2). */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number
  /** Block size. */
  r: number
  /** Parallelisation. */
  p: number
}

/**
 * N = 2^15, r = 8, p = 1: 32 MiB and about 70 ms per hash on the reference machine (2 cores,
 * Node 20; 2^14 took 35 ms, 2^16 145 ms). See docs/decisions/0013-user-passwords.md.
 */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 15, r: 8, p: 1 })

const SALT_BYTES = 16
const HASH_BYTES = 32
/** Bounds on parameters read from the store, so a tampered hash cannot exhaust memory or time. */
const LIMITS = { N: [2 ** 10, 2 ** 20], r: [1, 32], p: [1, 16] } as const

/**
 * RFC 8265 §4.2 (OpaqueString): a password is compared in Unicode Normalization Form C, so
 * the same characters typed on two keyboards (precomposed or combining) match.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFC')
}

/**
 * Hashes a password with scrypt into `scrypt$N$r$p$salt$hash` (salt and hash base64url).
 * Runs on the libuv thread pool; the event loop keeps serving.
 *
 * @example
 * ```ts
 * const stored = await hashPassword('correct horse battery staple')
 * await verifyPassword('correct horse battery staple', stored) // true
 * ```
 */
export async function hashPassword(password: string, params: Readonly<ScryptParams> = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  if (!validParams(params)) throw new TypeError(`scrypt parameters out of range: N=${params.N} r=${params.r} p=${params.p}`)
  const salt = randomBytes(SALT_BYTES)
  const hash = await derive(password, salt, params)
  return encode(params, salt, hash)
}

/**
 * Recomputes the hash with the parameters and salt `stored` names and compares in constant
 * time. A malformed `stored` value still costs one hash with the default parameters, and
 * answers false.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = decode(stored)
  const { params, salt, hash } = parsed ?? { params: DEFAULT_SCRYPT_PARAMS, salt: randomBytes(SALT_BYTES), hash: randomBytes(HASH_BYTES) }
  const computed = await derive(password, salt, params)
  return timingSafeEqual(computed, hash) && parsed !== undefined
}

/** Whether `stored` was hashed with other parameters than `params` (or is unreadable): rehash at the next sign-in. */
export function needsRehash(stored: string, params: Readonly<ScryptParams> = DEFAULT_SCRYPT_PARAMS): boolean {
  const parsed = decode(stored)
  return parsed === undefined || parsed.params.N !== params.N || parsed.params.r !== params.r || parsed.params.p !== params.p
}

/**
 * A well-formed hash of no password, with `params`: verifying against it costs what verifying
 * a real user's password costs, and never succeeds in practice (a random 256-bit hash).
 */
export function dummyPasswordHash(params: Readonly<ScryptParams> = DEFAULT_SCRYPT_PARAMS): string {
  return encode(params, randomBytes(SALT_BYTES), randomBytes(HASH_BYTES))
}

function encode(params: Readonly<ScryptParams>, salt: Buffer, hash: Buffer): string {
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

function decode(stored: string): { params: ScryptParams; salt: Uint8Array; hash: Uint8Array } | undefined {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined
  const [N, r, p] = parts.slice(1, 4).map((part) => (/^[1-9][0-9]{0,8}$/.test(part) ? Number(part) : Number.NaN)) as [number, number, number]
  const params = { N, r, p }
  const salt = decodeBase64url(parts[4]!)
  const hash = decodeBase64url(parts[5]!)
  if (!validParams(params) || salt?.length !== SALT_BYTES || hash?.length !== HASH_BYTES) return undefined
  return { params, salt, hash }
}

function validParams({ N, r, p }: Readonly<ScryptParams>): boolean {
  const within = (value: number, [min, max]: readonly [number, number]) => Number.isInteger(value) && value >= min && value <= max
  return within(N, LIMITS.N) && (N & (N - 1)) === 0 && within(r, LIMITS.r) && within(p, LIMITS.p)
}

function derive(password: string, salt: Uint8Array, { N, r, p }: Readonly<ScryptParams>): Promise<Buffer> {
  // scrypt needs 128·N·r bytes for V plus 128·r·p for B; Node refuses above maxmem.
  const maxmem = 128 * r * (N + p) + 1024 * 1024
  return new Promise((resolve, reject) => {
    scrypt(normalizePassword(password), salt, HASH_BYTES, { N, r, p, maxmem }, (error, key) => {
      if (error) reject(error)
      else resolve(key)
    })
  })
}
