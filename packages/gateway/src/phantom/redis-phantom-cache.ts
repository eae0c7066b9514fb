import type { Redis } from 'ioredis'
import { luaCommand } from '../redis/lua-command.js'
import type { PhantomEntry } from './phantom-cache.js'
import { openJwt, sealJwt } from './seal-jwt.js'
import type { SharedPhantomCache } from './shared-phantom-cache.js'

/** The entry, unless its `jti` is in the revoked set (then the entry goes too). */
const GET_ENTRY = `
local entry = redis.call('HMGET', KEYS[1], 'jti', 'jwt')
if not entry[1] or not entry[2] then return false end
if redis.call('ZSCORE', KEYS[2], entry[1]) then
  redis.call('DEL', KEYS[1])
  return false
end
return entry[2]
`

/**
 * The phantom-token cache in Redis: `<keyPrefix>phantom:<token id>` is a hash of the JWT's `jti`
 * and the JWT sealed under a key derived from the opaque token ({@link sealJwt}), expiring with
 * the JWT (`PEXPIREAT`). A lookup and the check against the revoked set that the authorization
 * servers keep (`<keyPrefix>revoked`) are one script, so a revoked token is never handed out,
 * even by an instance that missed the revocation.
 *
 * @example
 * const shared = new RedisPhantomCache(redis, 'meshguard:')
 * await shared.get(token, phantomTokenId(token)) // the JWT, or undefined
 */
export class RedisPhantomCache implements SharedPhantomCache {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #revoked: string
  readonly #getEntry: (key: string, revoked: string) => Promise<string | null>

  constructor(redis: Redis, keyPrefix: string) {
    this.#redis = redis
    this.#prefix = `${keyPrefix}phantom:`
    this.#revoked = `${keyPrefix}revoked`
    this.#getEntry = luaCommand<string | null>(redis, 'meshguardPhantomGet', 2, GET_ENTRY)
  }

  get available(): boolean {
    return this.#redis.status === 'ready'
  }

  async get(token: string, id: string): Promise<string | undefined> {
    const sealed = await this.#getEntry(this.#prefix + id, this.#revoked)
    return sealed === null ? undefined : openJwt(sealed, token, id)
  }

  async set(token: string, id: string, { jwt, jti, expiresAt }: PhantomEntry): Promise<void> {
    const key = this.#prefix + id
    await this.#redis
      .multi()
      .hset(key, 'jti', jti, 'jwt', sealJwt(jwt, token, id))
      .pexpireat(key, expiresAt)
      .exec()
  }
}
