import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { inspectToken } from '../tokens/inspect-token.js'
import { authenticate, claimedIdentity, type EndpointRequest } from './authenticate.js'
import { recordRefusal } from './record-refusal.js'

/**
 * RFC 7009 revocation. Only the client a token was issued to can revoke it (§2.1); for any
 * other token, invalid, expired or someone else's, the answer is the same 200 and nothing
 * changes (§2.2). A revocation is stored before it is announced on the revocation bus. A
 * reference token revokes the `jti` of the JWT it stands for, so holders of the JWT refuse it too.
 */
export async function revocationEndpoint(ctx: ServerContext, request: EndpointRequest): Promise<void> {
  let clientId: string | undefined
  try {
    clientId = (await authenticate(ctx, 'revocation', request)).client.id
    const inspection = await inspectToken(ctx, request.params.require('token'))
    if (!inspection.active) {
      ctx.audit.record({ ts: ctx.clock.now(), type: 'token.revocation_ignored', decision: 'deny', clientId, reason: inspection.reason })
      return
    }
    const { claims } = inspection
    if (claims.client_id !== clientId) {
      ctx.audit.record({
        ts: ctx.clock.now(),
        type: 'token.revocation_ignored',
        decision: 'deny',
        clientId,
        subject: claims.sub,
        jti: claims.jti,
        reason: 'token was issued to another client',
      })
      return
    }
    const event = { jti: claims.jti, clientId, expiresAt: claims.exp, revokedAt: epochSeconds(ctx.clock) }
    const stored = await ctx.store.revokeToken(event)
    ctx.directory.noteRevoked(event.jti, event.expiresAt)
    if (stored) {
      ctx.metrics.revocations.inc()
      ctx.revocations.publish(event)
    }
    ctx.audit.record({ ts: ctx.clock.now(), type: 'token.revoked', decision: 'allow', clientId, subject: claims.sub, jti: claims.jti })
  } catch (err) {
    recordRefusal(ctx, err, {
      endpoint: 'revocation',
      type: 'revocation.refused',
      clientId,
      details: clientId === undefined ? claimedIdentity(request) : undefined,
    })
    throw err
  }
}
