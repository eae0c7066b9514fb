import type { ServerContext } from '../context.js'
import type { ConsoleAdmin } from './console-session.js'

/** What a console API handler is given: the administrator making the call and what they sent. */
export interface RouteInput {
  admin: ConsoleAdmin
  body: unknown
  query: unknown
  params: Readonly<Record<string, string>>
}

/**
 * One call of the console API, under `/console/api`. Every route is for administrators only, and
 * every one but GET needs the session's CSRF token (`console-session.ts`); adding a section is a
 * file of routes and a line in `console-routes.ts`.
 */
export interface ConsoleRoute {
  method: 'GET' | 'POST' | 'DELETE'
  url: string
  /** Of a success; 200 by default. */
  status?: number
  handler: (input: RouteInput) => Promise<unknown>
}

/**
 * Runs a change made through the console and audits it as `console.<action>`: allowed with what
 * was changed, or refused with the error's code; who made it is the event's subject.
 */
export async function audited<T>(ctx: ServerContext, admin: ConsoleAdmin, action: string, target: Record<string, unknown>, change: () => Promise<T>): Promise<T> {
  const record = (decision: 'allow' | 'deny', reason?: string, message?: string) => {
    ctx.audit.record({
      ts: ctx.clock.now(),
      type: `console.${action}`,
      decision,
      subject: admin.user.id,
      reason,
      details: { ...target, by: admin.user.username, ...(message !== undefined && { message }) },
    })
  }
  try {
    const result = await change()
    record('allow')
    return result
  } catch (err) {
    const code = (err as { code?: unknown }).code
    record('deny', typeof code === 'string' ? code : 'error', err instanceof Error ? err.message : String(err))
    throw err
  }
}
