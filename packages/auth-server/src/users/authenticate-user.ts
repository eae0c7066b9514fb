import type { AuditLog } from '../audit/audit-log.js'
import { epochSeconds, type Clock } from '../clock.js'
import { DEFAULT_SCRYPT_PARAMS, dummyPasswordHash, hashPassword, needsRehash, verifyPassword, type ScryptParams } from '../crypto/password-hash.js'
import type { Store, UserRecord } from '../store/store.js'
import {
  accountKey,
  DEFAULT_LOGIN_THROTTLE,
  failureRule,
  ipKey,
  throttleState,
  type LoginThrottlePolicies,
  type ThrottleState,
} from './login-throttle.js'
import { canonicalUsername } from './username.js'

export interface LoginAttempt {
  /** As typed; canonicalised by `canonicalUsername`. */
  username: string
  password: string
  /** The client address the attempt came from. */
  ip: string
}

/**
 * `ERR_LOGIN_FAILED` for an unknown user and for a wrong password alike;
 * `ERR_LOGIN_THROTTLED` while the account or the address waits out a delay or a lock.
 */
export type LoginOutcome =
  | { ok: true; user: UserRecord }
  | { ok: false; error: 'ERR_LOGIN_FAILED' }
  | { ok: false; error: 'ERR_LOGIN_THROTTLED'; retryAfterSec: number }

export interface UserAuthenticatorDeps {
  store: Store
  clock: Clock
  audit: Pick<AuditLog, 'record'>
  /** Default {@link DEFAULT_LOGIN_THROTTLE}. */
  throttle?: Readonly<LoginThrottlePolicies> | undefined
  /** For new hashes, rehashes at sign-in and the unknown-user dummy; default {@link DEFAULT_SCRYPT_PARAMS}. */
  hashParams?: Readonly<ScryptParams> | undefined
}

export interface UserAuthenticator {
  authenticateUser: (attempt: LoginAttempt) => Promise<LoginOutcome>
}

const FAILED = { ok: false, error: 'ERR_LOGIN_FAILED' } as const

/**
 * Password sign-in with per-account and per-address throttling, shared through the store by
 * every instance. An unknown username is hashed against a dummy with the current parameters
 * and counted like a wrong password, so neither the answer nor its timing tells them apart.
 * Every attempt is audited as `user.login` (username and address, never the password).
 *
 * @example
 * ```ts
 * const { authenticateUser } = createUserAuthenticator({ store, clock: systemClock, audit })
 * const outcome = await authenticateUser({ username: 'alice', password, ip: '203.0.113.7' })
 * if (!outcome.ok) return outcome.error
 * ```
 */
export function createUserAuthenticator(deps: UserAuthenticatorDeps): UserAuthenticator {
  const { store, clock, audit } = deps
  const policies = deps.throttle ?? DEFAULT_LOGIN_THROTTLE
  const hashParams = deps.hashParams ?? DEFAULT_SCRYPT_PARAMS
  const dummyHash = dummyPasswordHash(hashParams)

  async function authenticateUser({ username, password, ip }: LoginAttempt): Promise<LoginOutcome> {
    const now = epochSeconds(clock)
    const canonical = canonicalUsername(username)
    // An invalid name cannot exist; it is still throttled and audited under its own key.
    const account = accountKey(canonical ?? username)
    const address = ipKey(ip)
    const record = (decision: 'allow' | 'deny', reason: string, user?: UserRecord, details: Record<string, unknown> = {}) => {
      audit.record({
        ts: clock.now(),
        type: 'user.login',
        decision,
        subject: user?.id,
        reason,
        details: { username: canonical ?? username, ip, ...details },
      })
    }

    const failures = new Map((await store.getLoginFailures([account, address])).map((failure) => [failure.key, failure]))
    const refusal = strictest([
      throttleState(policies.account, failures.get(account), now),
      throttleState(policies.ip, failures.get(address), now),
    ])
    if (refusal.kind !== 'open') {
      record('deny', refusal.kind, undefined, { retryAfterSec: refusal.retryAfterSec })
      return { ok: false, error: 'ERR_LOGIN_THROTTLED', retryAfterSec: refusal.retryAfterSec }
    }

    const user = canonical === undefined ? undefined : await store.getUserByUsername(canonical)
    const matches = await verifyPassword(password, user?.passwordHash ?? dummyHash)
    if (user === undefined || !matches) {
      await Promise.all([
        store.recordLoginFailure(account, now, failureRule(policies.account)),
        store.recordLoginFailure(address, now, failureRule(policies.ip)),
      ])
      record('deny', 'invalid_credentials')
      return FAILED
    }

    await store.clearLoginFailures(account)
    if (needsRehash(user.passwordHash, hashParams)) {
      await store.updateUserPassword(user.username, await hashPassword(password, hashParams), now)
    }
    record('allow', 'password', user)
    return { ok: true, user }
  }

  return { authenticateUser }
}

function strictest(states: ThrottleState[]): ThrottleState {
  let worst: ThrottleState = { kind: 'open' }
  for (const state of states) {
    if (state.kind === 'open') continue
    if (worst.kind === 'open' || state.retryAfterSec > worst.retryAfterSec) worst = state
  }
  return worst
}
