import { z } from 'zod'
import type { ServerContext } from '../context.js'
import type { SigningKeyRecord } from '../store/store.js'
import { ConsoleError, parseInput } from './console-error.js'
import { audited, type ConsoleRoute } from './console-route.js'

const rotateInput = z.strictObject({
  /** Drop the active key at once instead of retiring it: every token it signed stops verifying. */
  emergency: z.boolean().default(false),
})

/** A signing key as the console lists it: its public half and its times, never the sealed private key. */
function describeKey(key: SigningKeyRecord) {
  return { kid: key.kid, alg: key.alg, state: key.state, createdAt: key.createdAt, activatedAt: key.activatedAt, retiredAt: key.retiredAt, expiresAt: key.expiresAt }
}

/**
 * `/console/api/keys`: list, and rotate as `meshguard keys rotate` does (`--now` is
 * `emergency`). The rotation is this server's key manager's, so it signs with the new key at
 * once; other instances pick it up within their key reload interval.
 */
export function keyRoutes(ctx: ServerContext): ConsoleRoute[] {
  return [
    {
      method: 'GET',
      url: '/keys',
      handler: async () => (await ctx.store.listSigningKeys()).map(describeKey),
    },
    {
      method: 'POST',
      url: '/keys/rotate',
      handler: async ({ admin, body }) => {
        const { emergency } = parseInput(rotateInput, body ?? {})
        return audited(ctx, admin, 'keys.rotated', { emergency }, async () => {
          const active = async () => (await ctx.store.listSigningKeys()).find((key) => key.state === 'active')?.kid
          const before = await active()
          const changed = await ctx.keys.rotate(emergency ? 'emergency' : 'manual')
          const after = await active()
          if (!changed || after === before) {
            throw new ConsoleError(
              'ERR_CONSOLE_ROTATION_NOT_DUE',
              `the next key has not been published for ${ctx.config.signing.publishAheadSec} seconds yet, so verifiers may not hold it; try later or rotate in an emergency`,
            )
          }
          return { retired: emergency ? null : (before ?? null), dropped: emergency ? (before ?? null) : null, active: after ?? null }
        })
      },
    },
  ]
}
