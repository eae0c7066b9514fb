import type { ServerContext } from '../context.js'
import { UnauthorizedClient, UnsupportedGrantType } from '../errors.js'
import type { FormParams } from '../http/form-params.js'
import type { ClientRecord } from '../store/store.js'
import { authenticate } from './authenticate.js'
import { grants } from './grants/index.js'
import { recordRefusal } from './record-refusal.js'
import { actChain } from '@meshguard/token'

/**
 * The token endpoint (RFC 6749 §3.2): find the grant, authenticate the client, check it may use
 * the grant, let the grant issue. Every outcome is audited.
 */
export async function tokenEndpoint(
  ctx: ServerContext,
  authorization: string | undefined,
  params: FormParams,
): Promise<Record<string, unknown>> {
  let client: ClientRecord | undefined
  const grantType = params.get('grant_type')
  try {
    const grant = grants.get(params.require('grant_type'))
    if (!grant) throw new UnsupportedGrantType(`grant_type ${grantType ?? ''} is not supported`)
    client = await authenticate(ctx, 'token', authorization, params)
    if (!client.grantTypes.includes(grant.grantType)) {
      throw new UnauthorizedClient(`client is not allowed to use grant_type ${grant.grantType}`)
    }
    const { body, claims } = await grant.handle(ctx, { client, params })
    ctx.metrics.tokensIssued.inc({ grant_type: grant.grantType })
    ctx.audit.record({
      ts: ctx.clock.now(),
      type: 'token.issued',
      decision: 'allow',
      clientId: client.id,
      subject: claims.sub,
      jti: claims.jti,
      act: claims.act ? actChain(claims.act) : undefined,
      details: { grant_type: grant.grantType, scope: claims.scope, aud: claims.aud },
    })
    return body
  } catch (err) {
    recordRefusal(ctx, err, {
      endpoint: 'token',
      type: 'token.refused',
      clientId: client?.id,
      details: { grant_type: grantType, claimed_client_id: client ? undefined : params.get('client_id') },
    })
    throw err
  }
}
