import type { KeyChanges, SigningKeyRecord } from '../store/store.js'

export interface RotationPolicy {
  /** Seconds a key signs before the next one takes over. */
  rotationIntervalSec: number
  /** Seconds the next key must have been published before it may sign. */
  publishAheadSec: number
  /** Seconds a retired key stays published: the longest token lifetime plus clock tolerance. */
  retainRetiredSec: number
}

export type RotationMode = 'scheduled' | 'manual' | 'emergency'

/**
 * The changes that bring the key set up to date at `now` (seconds), or undefined when none are due.
 *
 * - `scheduled`: the active key retires once it has signed for `rotationIntervalSec`, but only when
 *   the next key has been published for `publishAheadSec`, so every verifier already holds it.
 *   A retired key stays published for `retainRetiredSec`, until every token it signed has expired.
 * - `manual`: the same retirement, at once, but still only to a next key that has been published long enough.
 * - `emergency`: the active key is deleted at once; tokens it signed stop verifying everywhere.
 *
 * There is always one next key waiting, so the JWKS carries a key before it signs.
 */
export function planRotation(
  keys: readonly SigningKeyRecord[],
  now: number,
  policy: RotationPolicy,
  mode: RotationMode,
  generate: () => SigningKeyRecord,
): KeyChanges | undefined {
  const changes: Required<KeyChanges> = { insert: [], update: [], delete: [] }
  const active = keys.find((key) => key.state === 'active')
  const waiting = keys.filter((key) => key.state === 'next').sort((a, b) => a.createdAt - b.createdAt)
  let next = waiting[0]

  for (const key of keys) {
    if (key.state === 'retired' && key.expiresAt !== null && key.expiresAt <= now) changes.delete.push(key.kid)
  }

  const promote = (key: SigningKeyRecord): void => {
    changes.update.push({ kid: key.kid, state: 'active', activatedAt: now, retiredAt: null, expiresAt: null })
  }

  if (active === undefined) {
    if (next) promote(next)
    else changes.insert.push({ ...generate(), state: 'active', activatedAt: now })
    next = undefined
  } else if (mode === 'emergency') {
    changes.delete.push(active.kid)
    if (next) promote(next)
    else changes.insert.push({ ...generate(), state: 'active', activatedAt: now })
    next = undefined
  } else {
    const due = mode === 'manual' || (active.activatedAt ?? active.createdAt) + policy.rotationIntervalSec <= now
    const nextReady = next !== undefined && next.createdAt + policy.publishAheadSec <= now
    if (due && nextReady && next) {
      changes.update.push({
        kid: active.kid,
        state: 'retired',
        activatedAt: active.activatedAt,
        retiredAt: now,
        expiresAt: now + policy.retainRetiredSec,
      })
      promote(next)
      next = waiting[1]
    }
  }

  if (next === undefined) changes.insert.push({ ...generate(), state: 'next' })

  const empty = changes.insert.length === 0 && changes.update.length === 0 && changes.delete.length === 0
  return empty ? undefined : changes
}
