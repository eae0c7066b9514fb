import { z } from 'zod'
import { integer } from './integer.js'

/**
 * Redis, shared by every gateway instance: rate-limit buckets, the phantom-token cache (a second
 * level under each instance's memory) and revocations pushed by the authorization servers.
 * Unset: everything stays in this instance's memory.
 */
export const redisSchema = z
  .object({
    /** `redis://` or `rediss://` (TLS), with credentials and database if needed. Required. */
    url: z.string().regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL'),
    /** Prefix of every key and channel; the authorization servers' `redis.keyPrefix` must match. */
    keyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1-64 letters, digits, ":", ".", "_" or "-"')
      .default('meshguard:'),
    /** A command unanswered this long counts as Redis being down for that request. */
    commandTimeoutMs: integer(10, 10_000).default(500),
  })
  .strict()
