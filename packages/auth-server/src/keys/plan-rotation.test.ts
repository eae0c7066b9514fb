import { describe, expect, it } from 'vitest'
import type { KeyChanges, SigningKeyRecord, SigningKeyState } from '../store/store.js'
import { planRotation, type RotationMode, type RotationPolicy } from './plan-rotation.js'

const NOW = 1_750_000_000
const DAY = 86_400

const policy: RotationPolicy = { rotationIntervalSec: 30 * DAY, publishAheadSec: 900, retainRetiredSec: 3630 }

function key(kid: string, state: SigningKeyState, times: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid,
    alg: 'ES256',
    state,
    publicJwk: { kty: 'EC', kid },
    privateKeySealed: `sealed-${kid}`,
    createdAt: NOW - 60 * DAY,
    activatedAt: state === 'next' ? null : NOW - 60 * DAY,
    retiredAt: null,
    expiresAt: null,
    ...times,
  }
}

/** A key source like the key manager's pool: fresh `next` records created at `now`. */
function generator(now = NOW): { generate: () => SigningKeyRecord; made: string[] } {
  const made: string[] = []
  const generate = (): SigningKeyRecord => {
    const kid = `new-${made.length + 1}`
    made.push(kid)
    return key(kid, 'next', { createdAt: now, activatedAt: null })
  }
  return { generate, made }
}

function plan(keys: readonly SigningKeyRecord[], mode: RotationMode, now = NOW): KeyChanges | undefined {
  return planRotation(keys, now, policy, mode, generator(now).generate)
}

/** Applies changes the way `Store.applyKeyChanges` does. */
function apply(keys: readonly SigningKeyRecord[], changes: KeyChanges | undefined): SigningKeyRecord[] {
  if (changes === undefined) return [...keys]
  const deleted = new Set(changes.delete ?? [])
  const updates = new Map((changes.update ?? []).map((update) => [update.kid, update]))
  const kept = keys.filter((record) => !deleted.has(record.kid)).map((record) => ({ ...record, ...updates.get(record.kid) }))
  return [...kept, ...(changes.insert ?? [])]
}

function states(keys: readonly SigningKeyRecord[]): Record<string, SigningKeyState> {
  return Object.fromEntries(keys.map((record) => [record.kid, record.state]))
}

/** Active for a full interval, with a next key published long enough ago. */
const dueAndReady = (): SigningKeyRecord[] => [
  key('a', 'active', { activatedAt: NOW - policy.rotationIntervalSec }),
  key('n', 'next', { createdAt: NOW - policy.publishAheadSec }),
]

describe('planRotation', () => {
  it('on first start inserts one active key and one next key', () => {
    const { generate, made } = generator()
    const changes = planRotation([], NOW, policy, 'scheduled', generate)
    expect(made).toEqual(['new-1', 'new-2'])
    expect(changes?.update).toEqual([])
    expect(changes?.delete).toEqual([])
    expect(changes?.insert?.map(({ kid, state, activatedAt, createdAt }) => ({ kid, state, activatedAt, createdAt }))).toEqual([
      { kid: 'new-1', state: 'active', activatedAt: NOW, createdAt: NOW },
      { kid: 'new-2', state: 'next', activatedAt: null, createdAt: NOW },
    ])
  })

  it('changes nothing when no rotation is due', () => {
    const keys = [key('a', 'active', { activatedAt: NOW - policy.rotationIntervalSec + 1 }), key('n', 'next')]
    expect(plan(keys, 'scheduled')).toBeUndefined()
  })

  it('waits while the next key has been published for less than publishAheadSec', () => {
    const keys = [
      key('a', 'active', { activatedAt: NOW - policy.rotationIntervalSec }),
      key('n', 'next', { createdAt: NOW - policy.publishAheadSec + 1 }),
    ]
    expect(plan(keys, 'scheduled')).toBeUndefined()
  })

  it('retires the active key, promotes the next one and publishes a new next key when due and ready', () => {
    expect(plan(dueAndReady(), 'scheduled')).toEqual({
      insert: [key('new-1', 'next', { createdAt: NOW, activatedAt: null })],
      update: [
        { kid: 'a', state: 'retired', activatedAt: NOW - policy.rotationIntervalSec, retiredAt: NOW, expiresAt: NOW + policy.retainRetiredSec },
        { kid: 'n', state: 'active', activatedAt: NOW, retiredAt: null, expiresAt: null },
      ],
      delete: [],
    })
  })

  it('counts the interval from createdAt when activatedAt is missing', () => {
    const keys = [key('a', 'active', { createdAt: NOW - policy.rotationIntervalSec, activatedAt: null }), key('n', 'next')]
    expect(states(apply(keys, plan(keys, 'scheduled')))).toEqual({ a: 'retired', n: 'active', 'new-1': 'next' })
  })

  it.each([
    ['expired a second ago', NOW - 1, ['r']],
    ['expiring now', NOW, ['r']],
    ['expiring in a second', NOW + 1, []],
  ])('deletes a retired key %s only once expiresAt has passed', (_, expiresAt, deleted) => {
    const keys = [key('a', 'active', { activatedAt: NOW - DAY }), key('n', 'next'), key('r', 'retired', { retiredAt: NOW - DAY, expiresAt })]
    const changes = plan(keys, 'scheduled')
    if (deleted.length === 0) expect(changes).toBeUndefined()
    else expect(changes).toEqual({ insert: [], update: [], delete: deleted })
  })

  it('never deletes a retired key without expiresAt', () => {
    const keys = [key('a', 'active', { activatedAt: NOW - DAY }), key('n', 'next'), key('r', 'retired', { expiresAt: null })]
    expect(plan(keys, 'scheduled')).toBeUndefined()
  })

  describe("'manual'", () => {
    it('rotates before the interval has elapsed', () => {
      const keys = [key('a', 'active', { activatedAt: NOW - 60 }), key('n', 'next', { createdAt: NOW - policy.publishAheadSec })]
      expect(states(apply(keys, plan(keys, 'manual')))).toEqual({ a: 'retired', n: 'active', 'new-1': 'next' })
    })

    it('still waits until the next key has been published for publishAheadSec', () => {
      const keys = [key('a', 'active', { activatedAt: NOW - 60 }), key('n', 'next', { createdAt: NOW - policy.publishAheadSec + 1 })]
      expect(plan(keys, 'manual')).toBeUndefined()
    })
  })

  describe("'emergency'", () => {
    it('deletes the active key, promotes the next one, however recent, and publishes a new next key', () => {
      const keys = [key('a', 'active', { activatedAt: NOW - 60 }), key('n', 'next', { createdAt: NOW })]
      expect(plan(keys, 'emergency')).toEqual({
        insert: [key('new-1', 'next', { createdAt: NOW, activatedAt: null })],
        update: [{ kid: 'n', state: 'active', activatedAt: NOW, retiredAt: null, expiresAt: null }],
        delete: ['a'],
      })
    })

    it('without a next key inserts a new active key and a new next key', () => {
      const changes = plan([key('a', 'active')], 'emergency')
      expect(changes?.delete).toEqual(['a'])
      expect(changes?.update).toEqual([])
      expect(changes?.insert?.map(({ kid, state, activatedAt }) => ({ kid, state, activatedAt }))).toEqual([
        { kid: 'new-1', state: 'active', activatedAt: NOW },
        { kid: 'new-2', state: 'next', activatedAt: null },
      ])
    })

    it('leaves retired keys published until they expire', () => {
      const keys = [key('a', 'active'), key('n', 'next'), key('r', 'retired', { expiresAt: NOW + 1 })]
      expect(plan(keys, 'emergency')?.delete).toEqual(['a'])
    })
  })

  it('with two next keys promotes the oldest and keeps the other as next', () => {
    const keys = [
      key('a', 'active', { activatedAt: NOW - policy.rotationIntervalSec }),
      key('younger', 'next', { createdAt: NOW - 2 * policy.publishAheadSec }),
      key('older', 'next', { createdAt: NOW - 3 * policy.publishAheadSec }),
    ]
    const changes = plan(keys, 'scheduled')
    expect(changes?.insert).toEqual([])
    expect(states(apply(keys, changes))).toEqual({ a: 'retired', younger: 'next', older: 'active' })
  })

  describe('leaves exactly one active key and at least one next key', () => {
    const startingStates: Array<[string, SigningKeyRecord[]]> = [
      ['no keys', []],
      ['only a next key', [key('n', 'next')]],
      ['only a next key published just now', [key('n', 'next', { createdAt: NOW })]],
      ['only an active key', [key('a', 'active', { activatedAt: NOW - 60 })]],
      ['only an active key due for rotation', [key('a', 'active')]],
      ['only a retired key, expired', [key('r', 'retired', { expiresAt: NOW - 1 })]],
      ['only a retired key, still published', [key('r', 'retired', { expiresAt: NOW + 1 })]],
      ['steady state', [key('a', 'active', { activatedAt: NOW - 60 }), key('n', 'next')]],
      ['due, next not ready', [key('a', 'active'), key('n', 'next', { createdAt: NOW })]],
      ['due and ready', dueAndReady()],
      ['due and ready, two next keys', [...dueAndReady(), key('n2', 'next', { createdAt: NOW - 1 })]],
      ['not due, two next keys', [key('a', 'active', { activatedAt: NOW - 60 }), key('n', 'next'), key('n2', 'next')]],
      [
        'due, with retired keys on both sides of expiry',
        [...dueAndReady(), key('r1', 'retired', { expiresAt: NOW - 1 }), key('r2', 'retired', { expiresAt: NOW + 1 })],
      ],
    ]
    const modes: RotationMode[] = ['scheduled', 'manual', 'emergency']
    const rows = startingStates.flatMap(([name, keys]) => modes.map((mode) => [name, mode, keys] as const))

    it.each(rows)('%s, %s', (_, mode, keys) => {
      const after = apply(keys, plan(keys, mode))
      expect(after.filter((record) => record.state === 'active')).toHaveLength(1)
      expect(after.filter((record) => record.state === 'next').length).toBeGreaterThanOrEqual(1)
      expect(new Set(after.map((record) => record.kid)).size).toBe(after.length)
      expect(after.filter((record) => record.state === 'retired' && record.expiresAt !== null && record.expiresAt <= NOW)).toEqual([])
      expect(plan(after, 'scheduled'), 'a second scheduled plan at the same instant changes nothing').toBeUndefined()
    })
  })
})
