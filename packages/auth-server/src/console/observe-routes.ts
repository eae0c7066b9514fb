import { z } from 'zod'
import type { ServerContext } from '../context.js'
import { parseInput } from './console-error.js'
import type { ConsoleRoute } from './console-route.js'
import { serviceMap } from './service-map.js'
import { tokenReport } from './token-report.js'

/** How far back the map looks, and how many calls it reads at most. */
const MAP_WINDOW_MS = 24 * 3600_000
const MAP_CALLS = 2000

const optionalText = z
  .string()
  .max(500)
  .optional()
  .transform((value) => (value === '' ? undefined : value))
const time = z.coerce.number().int().nonnegative().optional()

const auditQuery = z.strictObject({
  type: optionalText,
  service: optionalText,
  client: optionalText,
  decision: z.enum(['allow', 'deny', '']).optional().transform((value) => (value === '' ? undefined : value)),
  reason: optionalText,
  /** Milliseconds since the epoch, inclusive. */
  since: time,
  until: time,
  limit: z.coerce.number().int().min(1).max(1000).default(200),
})

const inspectInput = z.strictObject({ token: z.string().min(1).max(16_384) })

/** The read-only views: the service map, the audit log and the token inspector. */
export function observeRoutes(ctx: ServerContext): ConsoleRoute[] {
  return [
    {
      method: 'GET',
      url: '/map',
      handler: async () => {
        const since = ctx.clock.now() - MAP_WINDOW_MS
        await ctx.audit.flush()
        const [resourceServers, calls] = await Promise.all([ctx.store.listResourceServers(), ctx.store.queryAudit({ type: 'service.call', since }, MAP_CALLS)])
        return serviceMap(resourceServers, calls)
      },
    },
    {
      method: 'GET',
      url: '/audit',
      handler: async ({ query }) => {
        const { client, limit, ...filter } = parseInput(auditQuery, query)
        // What this instance recorded a moment ago may still wait for its batch to be written.
        await ctx.audit.flush()
        return ctx.store.queryAudit({ ...filter, clientId: client }, limit)
      },
    },
    {
      method: 'POST',
      url: '/inspect',
      handler: async ({ body }) => tokenReport(ctx, parseInput(inspectInput, body).token),
    },
  ]
}
