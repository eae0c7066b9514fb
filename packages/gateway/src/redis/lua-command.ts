import type { Redis } from 'ioredis'

/**
 * A Lua script made a command of the connection: ioredis sends it by `EVALSHA`, and in full again
 * when Redis answers `NOSCRIPT` (after a restart emptied its script cache).
 */
export function luaCommand<Reply>(redis: Redis, name: string, numberOfKeys: number, lua: string): (...keysThenArgs: string[]) => Promise<Reply> {
  redis.defineCommand(name, { numberOfKeys, lua })
  const command = (redis as unknown as Record<string, (...args: string[]) => Promise<Reply>>)[name]!
  return (...keysThenArgs) => command.apply(redis, keysThenArgs)
}
