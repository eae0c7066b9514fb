import type { ServerContext } from '../context.js'
import { preferredMediaType } from '../http/preferred-media-type.js'
import { inspectToken } from '../tokens/inspect-token.js'
import { signIntrospectionResponse } from '../tokens/sign-introspection-response.js'
import { authenticate, claimedIdentity, type EndpointRequest } from './authenticate.js'
import { recordRefusal } from './record-refusal.js'
import { actChain } from '@meshguard/token'

/** The forms an introspection response can take, chosen by the request's `Accept` header. */
export const introspectionMediaTypes = {
  /** RFC 7662 §2.2: the default. */
  json: 'application/json',
  /** RFC 9701: the same object, signed, as the `token_introspection` claim of a JWT. */
  signed: 'application/token-introspection+jwt',
  /** The phantom-token exchange: the access token itself, as a JWT (RFC 7519 §10.3.1 media type). */
  jwt: 'application/jwt',
} as const

export type IntrospectionMediaType = (typeof introspectionMediaTypes)[keyof typeof introspectionMediaTypes]

const { json, signed, jwt } = introspectionMediaTypes
const ALL_FORMS = [json, signed, jwt] as const
const WITHOUT_JWT = [json, signed] as const

export interface IntrospectionRequest extends EndpointRequest {
  /** The `Accept` header. */
  accept: string | undefined
}

export interface IntrospectionResponse {
  contentType: IntrospectionMediaType
  /** The RFC 7662 object for `application/json`; a compact JWT otherwise. */
  body: Record<string, unknown> | string
}

/**
 * RFC 7662 introspection. The caller authenticates; a token that is not ours, not valid now
 * or revoked is answered with exactly `{"active":false}` (§2.2), whatever the reason. An active
 * token's claims are returned as they are, a certificate-bound token's `cnf` included (RFC 8705
 * §3.2); a reference token introspects to the claims of the JWT it stands for.
 *
 * `Accept` chooses the form: `application/token-introspection+jwt` gets the same answer signed
 * (RFC 9701); `application/jwt` gets the phantom-token exchange, the active token's JWT itself,
 * but only for a client registered with `phantomTokens` — anyone else, and any token that is not
 * active, gets the best other form the header accepts, JSON when it accepts none (RFC 9110
 * §12.5.1 lets a server disregard `Accept`; errors are always JSON).
 */
export async function introspectionEndpoint(ctx: ServerContext, request: IntrospectionRequest): Promise<IntrospectionResponse> {
  let clientId: string | undefined
  try {
    const { client } = await authenticate(ctx, 'introspection', request)
    clientId = client.id
    const inspection = await inspectToken(ctx, request.params.require('token'))
    const wanted = preferredMediaType(request.accept, ALL_FORMS) ?? json
    const phantom = wanted === jwt && client.phantomTokens && inspection.active
    const contentType = wanted !== jwt || phantom ? wanted : (preferredMediaType(request.accept, WITHOUT_JWT) ?? json)
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
      details: {
        active: inspection.active,
        format: inspection.active ? inspection.format : undefined,
        response: contentType,
        phantom_refused: wanted === jwt && !client.phantomTokens ? 'client is not registered for phantom tokens' : undefined,
      },
    })
    if (contentType === jwt && inspection.active) return { contentType, body: inspection.jwt }
    const response = inspection.active ? { active: true, token_type: 'Bearer', ...inspection.claims } : { active: false }
    if (contentType === signed) return { contentType, body: signIntrospectionResponse(ctx, client.id, response) }
    return { contentType: json, body: response }
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
