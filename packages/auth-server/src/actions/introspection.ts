import type { ServerContext } from '../context.js'
import { inspectToken } from '../tokens/inspect-token.js'
import { authenticate, claimedIdentity, type EndpointRequest } from './authenticate.js'
import { recordRefusal } from './record-refusal.js'
import { actChain } from '@meshguard/token'

/**
 * RFC 7662 introspection. The caller authenticates; a token that is not ours, not valid now
 * or revoked is answered with exactly `{"active":false}` (§2.2), whatever the reason. An active
 * token's claims are returned as they are, a certificate-bound token's `cnf` included (RFC 8705 §3.2).
 */
export async function introspectionEndpoint(ctx: ServerContext, request: EndpointRequest): Promise<Record<string, unknown>> {
  let clientId: string | undefined
  try {
    clientId = (await authenticate(ctx, 'introspection', request)).client.id
    const inspection = await inspectToken(ctx, request.params.require('token'))
    ctx.metrics.introspections.inc({ active: String(inspection.active) })
    ctx.audit.record({
      ts: ctx.clock.now(),
      type: 'token.introspected',
      decision: 'allow',
      clientId,
      subject: inspection.active ? inspection.claims.sub : undefined,
      jti: inspection.active ? inspection.claims.jti : undefined,
      act: inspection.active && inspection.claims.act ? actChain(inspection.claims.act) : undefined,
      reason: inspection.active ? undefined : inspection.reason,
      details: { active: inspection.active },
    })
    if (!inspection.active) return { active: false }
    return { active: true, token_type: 'Bearer', ...inspection.claims }
  } catch (err) {
    recordRefusal(ctx, err, {
      endpoint: 'introspection',
      type: 'introspection.refused',
      clientId,
      details: clientId === undefined ? claimedIdentity(request) : undefined,
    })
    throw err
  }
}
