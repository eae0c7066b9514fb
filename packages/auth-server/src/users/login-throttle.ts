import type { LoginFailureRecord, LoginFailureRule } from '../store/store.js'

/** Growing delays, then a lock, for the failures counted against one key. Seconds. */
export interface ThrottlePolicy {
  /** Failures allowed without any delay. */
  freeFailures: number
  /** The delay after the first failure past `freeFailures`; it doubles with each further one. */
  baseDelaySec: number
  maxDelaySec: number
  /** This many failures within `windowSec` lock the key for `lockSec`. */
  lockAfter: number
  windowSec: number
  lockSec: number
}

export interface LoginThrottlePolicies {
  /** Per username, whether or not the account exists. */
  account: ThrottlePolicy
  /** Per client address, across usernames: looser, since many users may share a NAT. */
  ip: ThrottlePolicy
}

/**
 * Per account: three free failures, then 1, 2, 4 … up to 30 s between attempts, and the
 * tenth failure within 15 minutes locks for 15 minutes. Per address: the same shape scaled for
 * a shared address, 20 free failures and a lock at 100.
 */
export const DEFAULT_LOGIN_THROTTLE: Readonly<LoginThrottlePolicies> = Object.freeze({
  account: Object.freeze({ freeFailures: 3, baseDelaySec: 1, maxDelaySec: 30, lockAfter: 10, windowSec: 900, lockSec: 900 }),
  ip: Object.freeze({ freeFailures: 20, baseDelaySec: 1, maxDelaySec: 30, lockAfter: 100, windowSec: 900, lockSec: 900 }),
})

export const accountKey = (username: string): string => `account:${username}`
export const ipKey = (ip: string): string => `ip:${ip}`

/** What the store needs to count a failure under `policy`. */
export function failureRule(policy: ThrottlePolicy): LoginFailureRule {
  return {
    windowSec: policy.windowSec,
    lockAfter: policy.lockAfter,
    lockSec: policy.lockSec,
    retainSec: Math.max(policy.windowSec, policy.lockSec, policy.maxDelaySec),
  }
}

/** The delay `policy` imposes after `failures` failures. */
export function delayAfter(policy: ThrottlePolicy, failures: number): number {
  if (failures < policy.freeFailures) return 0
  return Math.min(policy.baseDelaySec * 2 ** (failures - policy.freeFailures), policy.maxDelaySec)
}

export type ThrottleState = { kind: 'open' } | { kind: 'delayed' | 'locked'; retryAfterSec: number }

/** Whether an attempt at `now` may be verified, given the failures counted against one key. */
export function throttleState(policy: ThrottlePolicy, record: LoginFailureRecord | undefined, now: number): ThrottleState {
  if (record === undefined) return { kind: 'open' }
  if (record.lockedUntil !== null && record.lockedUntil > now) return { kind: 'locked', retryAfterSec: record.lockedUntil - now }
  if (record.lockedUntil !== null || record.windowStart <= now - policy.windowSec) return { kind: 'open' }
  const until = record.lastFailureAt + delayAfter(policy, record.failures)
  return until > now ? { kind: 'delayed', retryAfterSec: until - now } : { kind: 'open' }
}
