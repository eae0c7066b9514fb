/** Seed 004's tiers: the low one trades certificate checks away for convenience. */
export type SecurityTier = 'low' | 'medium' | 'high'

/** How strictly peers are verified; only the low tier may turn verification off. */
export interface PeerVerificationOptions {
  /** Default `'high'`. */
  tier?: SecurityTier | undefined
  /** Default `true`; `false` only with `tier: 'low'`. */
  rejectUnauthorized?: boolean | undefined
}

const TIERS: readonly unknown[] = ['low', 'medium', 'high'] satisfies SecurityTier[]

/**
 * Whether to reject peers whose chain does not verify: always, unless the caller says it is the
 * low tier. Refuses to build TLS options that would not verify peers, or while
 * `NODE_TLS_REJECT_UNAUTHORIZED=0` turns certificate checks off for the whole process.
 *
 * @throws TypeError naming `what` and the setting to change.
 */
export function checkPeerVerification(options: PeerVerificationOptions, what: string): boolean {
  const { tier = 'high', rejectUnauthorized = true } = options
  if (!TIERS.includes(tier)) throw new TypeError(`${what}: tier must be 'low', 'medium' or 'high'`)
  if (typeof rejectUnauthorized !== 'boolean') throw new TypeError(`${what}: rejectUnauthorized must be a boolean`)
  if (tier === 'low') return rejectUnauthorized
  if (!rejectUnauthorized) {
    throw new TypeError(`${what}: rejectUnauthorized: false would accept peers whose certificates do not verify; only the low security tier may (pass tier: 'low')`)
  }
  if (process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    throw new TypeError(`${what}: NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate checks off in this process; unset it, or pass tier: 'low'`)
  }
  return true
}
