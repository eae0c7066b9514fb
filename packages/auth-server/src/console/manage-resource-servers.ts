import { z } from 'zod'
import { registerResourceServer } from '../admin/register.js'
import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { MeshguardError } from '../errors.js'
import { parseInput } from './console-error.js'
import { audited, type ConsoleRoute } from './console-route.js'

/** The rules are `registerResourceServer`'s, as for `meshguard resource create`. */
const resourceInput = z.strictObject({
  id: z.string().max(200),
  scopes: z.array(z.string().max(200)).max(100),
})

/** `/console/api/resource-servers`: list, register, delete (with their scopes). */
export function resourceServerRoutes(ctx: ServerContext): ConsoleRoute[] {
  return [
    {
      method: 'GET',
      url: '/resource-servers',
      handler: () => ctx.store.listResourceServers(),
    },
    {
      method: 'POST',
      url: '/resource-servers',
      status: 201,
      handler: async ({ admin, body }) => {
        const input = parseInput(resourceInput, body)
        const record = await audited(ctx, admin, 'resource_server.created', { resource_server: input.id }, () =>
          registerResourceServer(ctx.store, input, epochSeconds(ctx.clock)),
        )
        await ctx.directory.refresh()
        return record
      },
    },
    {
      method: 'DELETE',
      url: '/resource-servers/:id',
      handler: async ({ admin, params }) => {
        const id = params.id ?? ''
        await audited(ctx, admin, 'resource_server.deleted', { resource_server: id }, async () => {
          if (!(await ctx.store.deleteResourceServer(id))) throw new MeshguardError('ERR_STORE_NOT_FOUND', `no resource server "${id}"`)
        })
        await ctx.directory.refresh()
        return { deleted: id }
      },
    },
  ]
}
