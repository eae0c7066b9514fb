import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { changeUserPassword, deleteUser, registerUser } from '../src/admin/users.js'
import type { Clock } from '../src/clock.js'
import { DEFAULT_SCRYPT_PARAMS, hashPassword, needsRehash, verifyPassword, type ScryptParams } from '../src/crypto/password-hash.js'
import { openStore } from '../src/store/open-store.js'
import type { AuditEvent, Store } from '../src/store/store.js'
import { createUserAuthenticator, type LoginOutcome, type UserAuthenticatorDeps } from '../src/users/authenticate-user.js'
import { DEFAULT_LOGIN_THROTTLE, type ThrottlePolicy } from '../src/users/login-throttle.js'
import { canonicalUsername } from '../src/users/username.js'

const NOW = 1_700_000_000
/** Cheap parameters for the throttling tables; the production ones are measured separately. */
const FAST: ScryptParams = { N: 1024, r: 8, p: 1 }
const PASSWORD = 'correct horse battery'
const WRONG = 'incorrect horse battery'
const FAILED: LoginOutcome = { ok: false, error: 'ERR_LOGIN_FAILED' }
const throttled = (retryAfterSec: number): LoginOutcome => ({ ok: false, error: 'ERR_LOGIN_THROTTLED', retryAfterSec })

const root = mkdtempSync(join(tmpdir(), 'meshguard-users-'))
afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

class FrozenClock implements Clock {
  ms = NOW * 1000
  now(): number {
    return this.ms
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000
  }
}

describe('password hashing', () => {
  it('round-trips in the self-describing format with a fresh salt each time', async () => {
    const first = await hashPassword(PASSWORD)
    const second = await hashPassword(PASSWORD)
    expect(first).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(second).not.toBe(first)
    expect(await verifyPassword(PASSWORD, first)).toBe(true)
    expect(await verifyPassword(WRONG, first)).toBe(false)
    expect(needsRehash(first)).toBe(false)
    expect(needsRehash(first, FAST)).toBe(true)
  })

  it('compares passwords in Unicode NFC (RFC 8265 OpaqueString)', async () => {
    const precomposed = 'caf\u00e9 au lait s\u00fbr'
    const combining = 'cafe\u0301 au lait su\u0302r'
    const stored = await hashPassword(precomposed, FAST)
    expect(await verifyPassword(combining, stored)).toBe(true)
    expect(await verifyPassword('cafe au lait sur', stored)).toBe(false)
  })

  it.each([
    ['another scheme', 'sha256$c2FsdA$ZGlnZXN0'],
    ['missing part', 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA'],
    ['N not a power of two', `scrypt$1000$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`],
    ['N too large (memory exhaustion)', `scrypt$1073741824$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`],
    ['r out of range', `scrypt$1024$64$1$${'A'.repeat(22)}$${'A'.repeat(43)}`],
    ['leading zero', `scrypt$01024$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`],
    ['short salt', `scrypt$1024$8$1$AAAA$${'A'.repeat(43)}`],
    ['bad base64url', `scrypt$1024$8$1$${'+'.repeat(22)}$${'A'.repeat(43)}`],
  ])('answers false for a stored hash with %s', async (_, stored) => {
    expect(await verifyPassword(PASSWORD, stored)).toBe(false)
    expect(needsRehash(stored)).toBe(true)
  })

  it('refuses parameters outside the safe range', async () => {
    await expect(hashPassword(PASSWORD, { N: 1000, r: 8, p: 1 })).rejects.toThrow(TypeError)
    await expect(hashPassword(PASSWORD, { N: 2 ** 21, r: 8, p: 1 })).rejects.toThrow(TypeError)
  })

  it('costs tens of milliseconds with the production parameters, off the event loop', async () => {
    let ticks = 0
    const timer = setInterval(() => (ticks += 1), 1)
    const started = performance.now()
    await hashPassword(PASSWORD, DEFAULT_SCRYPT_PARAMS)
    const elapsed = performance.now() - started
    clearInterval(timer)
    expect(elapsed).toBeGreaterThan(20)
    expect(ticks).toBeGreaterThan(2)
  })
})

describe('usernames and the password policy', () => {
  it.each([
    ['Alice', 'alice'],
    ['ALICE', 'alice'],
    ['\uff21\uff4c\uff49\uff43\uff45', 'alice'],
    ['Alice.Liddell+tea@Example.COM', 'alice.liddell+tea@example.com'],
    ['Zo\u0065\u0308', 'zo\u00eb'],
    ['', undefined],
    ['alice smith', undefined],
    ['alice\u0000', undefined],
    ['a'.repeat(101), undefined],
  ])('canonicalises %j to %j', (input, expected) => {
    expect(canonicalUsername(input)).toBe(expected)
  })

  it.each([
    ['a short password', { username: 'alice', password: 'short' }, 'password must be at least 12 characters'],
    ['the username', { username: 'alice.liddell', password: 'ALICE.LIDDELL' }, 'password must not be the username'],
    ['a control character', { username: 'alice', password: 'long enough\u0007 password' }, 'password must not contain control characters'],
    ['an over-long password', { username: 'alice', password: 'x'.repeat(1025) }, 'password must be at most 1024 characters'],
    ['a bad username', { username: 'alice smith', password: PASSWORD }, 'username "alice smith" must be 1-100 letters, digits or ._@+-'],
    ['a bad e-mail', { username: 'alice', password: PASSWORD, email: 'alice' }, 'email "alice" is not an e-mail address'],
  ])('refuses a user with %s', async (_, input, message) => {
    const store = await openStore({ dataDir: join(mkdtempSync(join(root, 'policy-')), 'data') })
    try {
      await expect(registerUser(store, input, NOW, FAST)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(message) })
      expect(await store.listUsers()).toStrictEqual([])
    } finally {
      await store.close()
    }
  })

  it('counts characters, not UTF-16 units, and lists every problem at once', async () => {
    const store = await openStore({ dataDir: join(mkdtempSync(join(root, 'policy-')), 'data') })
    try {
      await expect(registerUser(store, { username: 'bob', password: '\u{1F600}'.repeat(11) }, NOW, FAST)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
      await expect(registerUser(store, { username: 'a b', password: 'x', email: 'y' }, NOW, FAST)).rejects.toMatchObject({
        message: 'username "a b" must be 1-100 letters, digits or ._@+-; password must be at least 12 characters; email "y" is not an e-mail address',
      })
    } finally {
      await store.close()
    }
  })
})

describe('authenticateUser', () => {
  let dataDir: string
  let store: Store
  let clock: FrozenClock
  let events: AuditEvent[]

  const authenticator = (overrides: Partial<UserAuthenticatorDeps> = {}) =>
    createUserAuthenticator({ store, clock, audit: { record: (event) => events.push(event) }, hashParams: FAST, ...overrides })

  beforeEach(async () => {
    dataDir = join(mkdtempSync(join(root, 'login-')), 'data')
    store = await openStore({ dataDir })
    clock = new FrozenClock()
    events = []
    await registerUser(store, { username: 'Alice', password: PASSWORD, name: 'Alice Liddell', email: 'alice@example.com' }, NOW, FAST)
  })
  afterEach(async () => {
    await store.close()
  })

  it('signs in with any case or width of the username, audits it, and never records the password', async () => {
    const { authenticateUser } = authenticator()
    const outcome = await authenticateUser({ username: '\uff21\uff2c\uff29\uff23\uff25', password: PASSWORD, ip: '192.0.2.1' })
    expect(outcome).toMatchObject({ ok: true, user: { username: 'alice', name: 'Alice Liddell', email: 'alice@example.com' } })
    const id = outcome.ok ? outcome.user.id : ''
    await authenticateUser({ username: 'alice', password: WRONG, ip: '192.0.2.1' })
    expect(events).toStrictEqual([
      { ts: NOW * 1000, type: 'user.login', decision: 'allow', subject: id, reason: 'password', details: { username: 'alice', ip: '192.0.2.1' } },
      { ts: NOW * 1000, type: 'user.login', decision: 'deny', subject: undefined, reason: 'invalid_credentials', details: { username: 'alice', ip: '192.0.2.1' } },
    ])
    expect(JSON.stringify(events)).not.toContain('horse')
  })

  it('answers an unknown user exactly like a wrong password, through the same throttling', async () => {
    const { authenticateUser } = authenticator()
    const script = async (username: string, ip: string) => {
      const outcomes: LoginOutcome[] = []
      const start = clock.ms
      for (const advance of [0, 0, 0, 0, 1, 0, 2]) {
        clock.advance(advance)
        outcomes.push(await authenticateUser({ username, password: WRONG, ip }))
      }
      clock.ms = start
      return outcomes
    }
    const wrong = await script('alice', '192.0.2.1')
    const unknown = await script('nobody', '192.0.2.2')
    expect(unknown).toStrictEqual(wrong)
    expect(wrong).toStrictEqual([FAILED, FAILED, FAILED, throttled(1), FAILED, throttled(2), FAILED])
    const strip = (event: AuditEvent) => ({ ...event, details: { ...event.details, username: undefined, ip: undefined } })
    expect(events.slice(7).map(strip)).toStrictEqual(events.slice(0, 7).map(strip))
  })

  it('spends the same scrypt work on an unknown user as on a wrong password', async () => {
    await registerUser(store, { username: 'bob', password: PASSWORD }, NOW, DEFAULT_SCRYPT_PARAMS)
    const { authenticateUser } = authenticator({ hashParams: DEFAULT_SCRYPT_PARAMS })
    const time = async (username: string, ip: string) => {
      const started = performance.now()
      expect(await authenticateUser({ username, password: WRONG, ip })).toStrictEqual(FAILED)
      return performance.now() - started
    }
    const wrong: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 3; i += 1) {
      wrong.push(await time('bob', `198.51.100.${i}`))
      unknown.push(await time(`nobody${i}`, `198.51.100.${i + 10}`))
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[1]!
    expect(median(unknown) / median(wrong)).toBeGreaterThan(0.5)
    expect(median(unknown) / median(wrong)).toBeLessThan(2)
    expect(median(unknown)).toBeGreaterThan(20)
  })

  it('grows the delay per account, locks after 10 failures in 15 minutes, and unlocks after the lock period', async () => {
    const { authenticateUser } = authenticator()
    const attempt = (password: string, ip = '192.0.2.1') => authenticateUser({ username: 'alice', password, ip })
    for (let i = 0; i < 3; i += 1) expect(await attempt(WRONG)).toStrictEqual(FAILED)
    // After failure k (3..9) the account waits min(2^(k-3), 30) seconds.
    for (const delay of [1, 2, 4, 8, 16, 30, 30]) {
      expect(await attempt(PASSWORD)).toStrictEqual(throttled(delay))
      expect(await attempt(WRONG, '203.0.113.9')).toStrictEqual(throttled(delay))
      clock.advance(delay - 1)
      expect(await attempt(WRONG)).toStrictEqual(throttled(1))
      clock.advance(1)
      expect(await attempt(WRONG)).toStrictEqual(FAILED)
    }
    expect(await attempt(PASSWORD)).toStrictEqual(throttled(900))
    clock.advance(899)
    expect(await attempt(PASSWORD)).toStrictEqual(throttled(1))
    clock.advance(1)
    expect(await attempt(PASSWORD)).toMatchObject({ ok: true })
    expect(events.filter((event) => event.reason === 'locked')).toHaveLength(2)
    expect(events.filter((event) => event.reason === 'delayed')).toHaveLength(21)
  })

  it('resets the account counter on success', async () => {
    const { authenticateUser } = authenticator()
    const attempt = (password: string) => authenticateUser({ username: 'alice', password, ip: '192.0.2.1' })
    for (let i = 0; i < 3; i += 1) expect(await attempt(WRONG)).toStrictEqual(FAILED)
    clock.advance(1)
    expect(await attempt(PASSWORD)).toMatchObject({ ok: true })
    expect(await store.getLoginFailures(['account:alice'])).toStrictEqual([])
    for (let i = 0; i < 3; i += 1) expect(await attempt(WRONG)).toStrictEqual(FAILED)
    expect(await attempt(WRONG)).toStrictEqual(throttled(1))
  })

  it('throttles and locks one address across usernames, leaving other addresses alone', async () => {
    const ip: ThrottlePolicy = { freeFailures: 2, baseDelaySec: 1, maxDelaySec: 30, lockAfter: 5, windowSec: 900, lockSec: 900 }
    const { authenticateUser } = authenticator({ throttle: { account: DEFAULT_LOGIN_THROTTLE.account, ip } })
    const rows: Array<[advance: number, username: string, expected: LoginOutcome]> = [
      [0, 'u1', FAILED],
      [0, 'u2', FAILED],
      [0, 'u3', throttled(1)],
      [1, 'u3', FAILED],
      [2, 'u4', FAILED],
      [4, 'u5', FAILED],
      [0, 'u6', throttled(900)],
    ]
    for (const [advance, username, expected] of rows) {
      clock.advance(advance)
      expect(await authenticateUser({ username, password: WRONG, ip: '203.0.113.7' }), username).toStrictEqual(expected)
    }
    expect(await authenticateUser({ username: 'alice', password: PASSWORD, ip: '203.0.113.7' })).toStrictEqual(throttled(900))
    expect(await authenticateUser({ username: 'alice', password: PASSWORD, ip: '192.0.2.1' })).toMatchObject({ ok: true })
    // The correct password does not clear the address's count.
    expect(await store.getLoginFailures(['ip:203.0.113.7'])).toMatchObject([{ failures: 5, lockedUntil: NOW + 907 }])
  })

  it('rehashes a password stored with other parameters at the next sign-in', async () => {
    const { authenticateUser } = authenticator({ hashParams: { N: 2048, r: 8, p: 1 } })
    expect(await authenticateUser({ username: 'alice', password: PASSWORD, ip: '192.0.2.1' })).toMatchObject({ ok: true })
    const stored = (await store.getUserByUsername('alice'))!.passwordHash
    expect(stored).toMatch(/^scrypt\$2048\$8\$1\$/)
    expect(await verifyPassword(PASSWORD, stored)).toBe(true)
  })

  it('keeps users and locks across a restart (SQLite)', async () => {
    const lockAt1: ThrottlePolicy = { ...DEFAULT_LOGIN_THROTTLE.account, lockAfter: 1 }
    const throttle = { account: lockAt1, ip: DEFAULT_LOGIN_THROTTLE.ip }
    expect(await authenticator({ throttle }).authenticateUser({ username: 'alice', password: WRONG, ip: '192.0.2.1' })).toStrictEqual(FAILED)
    await store.close()
    store = await openStore({ dataDir })
    const { authenticateUser } = authenticator({ throttle })
    expect(await authenticateUser({ username: 'alice', password: PASSWORD, ip: '192.0.2.1' })).toStrictEqual(throttled(900))
    clock.advance(900)
    expect(await authenticateUser({ username: 'alice', password: PASSWORD, ip: '192.0.2.1' })).toMatchObject({ ok: true, user: { email: 'alice@example.com' } })
  })

  it('changes a password (lifting the account lock) and deletes a user', async () => {
    const { authenticateUser } = authenticator()
    for (let i = 0; i < 3; i += 1) await authenticateUser({ username: 'alice', password: WRONG, ip: '192.0.2.1' })
    await expect(changeUserPassword(store, 'alice', 'ALICE', NOW, FAST)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(changeUserPassword(store, 'nobody', 'a new long passphrase', NOW, FAST)).rejects.toMatchObject({ code: 'ERR_STORE_NOT_FOUND' })
    await changeUserPassword(store, 'ALICE', 'a new long passphrase', NOW + 1, FAST)
    expect(await authenticateUser({ username: 'alice', password: 'a new long passphrase', ip: '192.0.2.1' })).toMatchObject({ ok: true, user: { updatedAt: NOW + 1 } })
    await expect(registerUser(store, { username: 'ALICE', password: PASSWORD }, NOW, FAST)).rejects.toMatchObject({ code: 'ERR_STORE_CONFLICT' })
    await deleteUser(store, 'Alice', NOW + 2)
    await expect(deleteUser(store, 'alice', NOW + 2)).rejects.toMatchObject({ code: 'ERR_STORE_NOT_FOUND' })
    expect(await authenticateUser({ username: 'alice', password: 'a new long passphrase', ip: '192.0.2.1' })).toStrictEqual(FAILED)
  })
})
