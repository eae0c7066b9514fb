/**
 * A worker thread of measure-password-verification.js: verifies one bcrypt hash for
 * `workerData.seconds` on its own core, after one untimed verification, and posts how many verifications it made.
 */
import { performance } from 'node:perf_hooks'
import { parentPort, workerData } from 'node:worker_threads'
import bcrypt from 'bcryptjs'

export interface BcryptWorkerData {
  password: string
  hash: string
  seconds: number
}

export interface BcryptWorkerResult {
  verifications: number
  seconds: number
}

const { password, hash, seconds } = workerData as BcryptWorkerData
bcrypt.compareSync(password, hash)
let verifications = 0
const start = performance.now()
while (performance.now() - start < seconds * 1000) {
  if (!bcrypt.compareSync(password, hash)) throw new Error('bcryptjs did not verify a correct password')
  verifications += 1
}
parentPort!.postMessage({ verifications, seconds: (performance.now() - start) / 1000 } satisfies BcryptWorkerResult)
