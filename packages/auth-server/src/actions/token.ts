import type { ServerContext } from '../context.js'
import { UnauthorizedClient, UnsupportedGrantType } from '../errors.js'
import type { ClientRecord } from '../store/store.js'
import { authenticate, claimedIdentity, type EndpointRequest } from './authenticate.js'
import { grants } from './grants/index.js'
import { recordRefusal } from './record-refusal.js'
import { actChain } from '@meshguard/token'

/**
 * The token endpoint (RFC 6749 §3.2): find the grant, authenticate the client, check it may use
 * the grant, let the grant issue. Every outcome is audited.
 */
export async function tokenEndpoint(ctx: ServerContext, request: EndpointRequest): Promise<Record<string, unknown>> {
  const { params } = request
  let client: ClientRecord | undefined
  const grantType = params.get('grant_type')
  try {
    const grant = grants.get(params.require('grant_type'))
    if (!grant) throw new UnsupportedGrantType(`grant_type ${grantType ?? ''} is not supported`)
    const authenticated = await authenticate(ctx, 'token', request)
    client = authenticated.client
    if (!client.grantTypes.includes(grant.grantType)) {
      throw new UnauthorizedClient(`client is not allowed to use grant_type ${grant.grantType}`)
    }
    const { body, claims } = await grant.handle(ctx, { client, params, confirmation: authenticated.confirmation })
    ctx.metrics.tokensIssued.inc({ grant_type: grant.grantType })
    ctx.audit.record({
      ts: ctx.clock.now(),
      type: 'token.issued',
      decision: 'allow',
      clientId: client.id,
      subject: claims.sub,
      jti: claims.jti,
      act: claims.act ? actChain(claims.act) : undefined,
      details: { grant_type: grant.grantType, scope: claims.scope, aud: claims.aud, cnf: claims.cnf, token_format: client.tokenFormat },
    })
    return body
  } catch (err) {
    recordRefusal(ctx, err, {
      endpoint: 'token',
      type: 'token.refused',
      clientId: client?.id,
      details: { grant_type: grantType, ...(client ? {} : claimedIdentity(request)) },
    })
    throw err
  }
}
