import { z } from 'zod'
import { deleteUser, registerUser } from '../admin/users.js'
import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { MeshguardError } from '../errors.js'
import type { UserRecord } from '../store/store.js'
import { canonicalUsername } from '../users/username.js'
import { parseInput } from './console-error.js'
import { audited, type ConsoleRoute } from './console-route.js'

/** The rules are `registerUser`'s, as for `meshguard user create`. */
const userInput = z.strictObject({
  username: z.string().max(200),
  password: z.string().max(1024),
  name: z.string().max(400).optional(),
  email: z.string().max(400).optional(),
  admin: z.boolean().optional(),
})

/** A user as the console lists it: never the password hash. */
function describeUser(user: UserRecord) {
  return { username: user.username, sub: user.id, name: user.name, email: user.email, admin: user.admin, createdAt: user.createdAt }
}

/** `/console/api/users`: list, create, delete (which revokes their grants). An administrator cannot delete their own account. */
export function userRoutes(ctx: ServerContext): ConsoleRoute[] {
  return [
    {
      method: 'GET',
      url: '/users',
      handler: async () => (await ctx.store.listUsers()).map(describeUser),
    },
    {
      method: 'POST',
      url: '/users',
      status: 201,
      handler: async ({ admin, body }) => {
        const input = parseInput(userInput, body)
        const user = await audited(ctx, admin, 'user.created', { username: input.username, admin: input.admin ?? false }, () =>
          registerUser(ctx.store, input, epochSeconds(ctx.clock)),
        )
        return describeUser(user)
      },
    },
    {
      method: 'DELETE',
      url: '/users/:username',
      handler: async ({ admin, params }) => {
        const username = params.username ?? ''
        await audited(ctx, admin, 'user.deleted', { username }, async () => {
          if (canonicalUsername(username) === admin.user.username) {
            throw new MeshguardError('ERR_INVALID_ARGUMENT', 'you cannot delete the account you are signed in with')
          }
          await deleteUser(ctx.store, username, epochSeconds(ctx.clock))
        })
        return { deleted: username }
      },
    },
  ]
}
