/** Source of the current time, injected so tests can freeze or move it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** Whole seconds since the epoch, as JWT `NumericDate` values use. */
export function epochSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000)
}
