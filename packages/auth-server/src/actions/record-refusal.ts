import type { ServerContext } from '../context.js'
import { OAuthError } from '../errors.js'

export interface Refusal {
  endpoint: 'token' | 'introspection' | 'revocation' | 'audit_events'
  /** The audit event type, e.g. `token.refused`. */
  type: string
  clientId?: string | undefined
  details?: Record<string, unknown> | undefined
}

/** Counts and audits an OAuth error answered by an endpoint; other errors are left to the error handler. */
export function recordRefusal(ctx: ServerContext, err: unknown, refusal: Refusal): void {
  if (!(err instanceof OAuthError)) return
  ctx.metrics.oauthErrors.inc({ endpoint: refusal.endpoint, error: err.error })
  ctx.audit.record({
    ts: ctx.clock.now(),
    type: refusal.type,
    decision: 'deny',
    clientId: refusal.clientId,
    reason: `${err.error}: ${err.description}`,
    details: refusal.details,
  })
}
