import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import bcrypt from 'bcryptjs'
import { DEFAULT_SCRYPT_PARAMS, hashPassword, verifyPassword, type ScryptParams } from '@meshguard/auth-server'
import type { BcryptWorkerData, BcryptWorkerResult } from './bcrypt-verify-worker.js'

export interface VerificationRate {
  /** Verifications in parallel: 1, or one per core. */
  parallel: number
  verifications: number
  seconds: number
  perSecond: number
  /** How long each verification took on its core: `parallel × seconds / verifications`. */
  msPerVerification: number
}

export interface PasswordVerification {
  scrypt: { params: Readonly<ScryptParams>; oneCore: VerificationRate; allCores: VerificationRate }
  bcryptjs: { cost: number; oneCore: VerificationRate; allCores: VerificationRate }
}

const BCRYPT_WORKER = new URL('./bcrypt-verify-worker.js', import.meta.url)

/**
 * Login verifications per second of a correct password: Meshguard's `verifyPassword` (scrypt
 * with {@link DEFAULT_SCRYPT_PARAMS}, on the libuv thread pool as the server runs it) one at a
 * time and `cores` at a time; bcryptjs `compareSync` at `bcryptCost` on this thread and in
 * `cores` worker threads. Each for `seconds`, after one untimed verification.
 *
 * @example
 * const { scrypt } = await measurePasswordVerification({ seconds: 3, cores: 2, bcryptCost: 10 })
 * console.log(`${scrypt.oneCore.msPerVerification} ms per login`)
 */
export async function measurePasswordVerification(options: { seconds: number; cores: number; bcryptCost: number }): Promise<PasswordVerification> {
  const { seconds, cores, bcryptCost } = options
  const password = randomBytes(18).toString('base64url')
  const scryptHash = await hashPassword(password)
  const bcryptHash = bcrypt.hashSync(password, bcryptCost)
  if (!(await verifyPassword(password, scryptHash)) || (await verifyPassword(`${password}x`, scryptHash))) throw new Error('verifyPassword is wrong')
  if (!bcrypt.compareSync(password, bcryptHash) || bcrypt.compareSync(`${password}x`, bcryptHash)) throw new Error('bcryptjs is wrong')

  const scryptOnce = async () => {
    if (!(await verifyPassword(password, scryptHash))) throw new Error('verifyPassword did not verify a correct password')
  }
  const scryptOneCore = await verifyInParallel(1, seconds, scryptOnce)
  const scryptAllCores = await verifyInParallel(cores, seconds, scryptOnce)
  const bcryptOneCore = await verifyInParallel(1, seconds, () => {
    if (!bcrypt.compareSync(password, bcryptHash)) throw new Error('bcryptjs did not verify a correct password')
  })
  const bcryptAllCores = await bcryptInWorkers(cores, { password, hash: bcryptHash, seconds })
  return {
    scrypt: { params: DEFAULT_SCRYPT_PARAMS, oneCore: scryptOneCore, allCores: scryptAllCores },
    bcryptjs: { cost: bcryptCost, oneCore: bcryptOneCore, allCores: bcryptAllCores },
  }
}

/** `parallel` loops, each verifying one after another until `seconds` have passed. */
async function verifyInParallel(parallel: number, seconds: number, verify: () => unknown): Promise<VerificationRate> {
  await verify()
  let verifications = 0
  const start = performance.now()
  const loop = async () => {
    while (performance.now() - start < seconds * 1000) {
      await verify()
      verifications += 1
    }
  }
  await Promise.all(Array.from({ length: parallel }, loop))
  return rate(parallel, verifications, (performance.now() - start) / 1000)
}

async function bcryptInWorkers(parallel: number, data: BcryptWorkerData): Promise<VerificationRate> {
  const results = await Promise.all(
    Array.from(
      { length: parallel },
      () =>
        new Promise<BcryptWorkerResult>((resolve, reject) => {
          const worker = new Worker(BCRYPT_WORKER, { workerData: data })
          worker.once('message', resolve)
          worker.once('error', reject)
        }),
    ),
  )
  const verifications = results.reduce((sum, result) => sum + result.verifications, 0)
  return rate(parallel, verifications, Math.max(...results.map((result) => result.seconds)))
}

function rate(parallel: number, verifications: number, seconds: number): VerificationRate {
  return { parallel, verifications, seconds, perSecond: verifications / seconds, msPerVerification: (parallel * seconds * 1000) / verifications }
}
