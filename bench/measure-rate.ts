import { performance } from 'node:perf_hooks'

export interface Rate {
  iterations: number
  seconds: number
  perSecond: number
}

/**
 * Calls a synchronous operation a fixed number of times on this thread, after a tenth as many
 * untimed calls to warm it up, and reports calls per second.
 *
 * @example
 * const { perSecond } = measureRate(100_000, () => verifyClientSecret(secret, stored))
 */
export function measureRate(iterations: number, operation: () => unknown): Rate {
  const warmup = Math.max(1, Math.ceil(iterations / 10))
  for (let i = 0; i < warmup; i += 1) operation()
  const start = performance.now()
  for (let i = 0; i < iterations; i += 1) operation()
  const seconds = (performance.now() - start) / 1000
  return { iterations, seconds, perSecond: iterations / seconds }
}

/**
 * Calls an operation, synchronous or not, for `seconds` after 200 untimed calls, and reports
 * calls per second. Awaiting each call keeps async APIs comparable with sync ones.
 *
 * @example
 * const perSecond = await ratePerSecond(2, () => verifier.verify(token))
 */
export async function ratePerSecond(seconds: number, operation: () => unknown): Promise<number> {
  for (let i = 0; i < 200; i += 1) await operation()
  let count = 0
  const start = performance.now()
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < 100; i += 1) await operation()
    count += 100
  }
  return count / ((performance.now() - start) / 1000)
}
