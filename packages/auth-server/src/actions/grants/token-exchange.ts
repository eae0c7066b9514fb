import type { ServerContext } from '../../context.js'
import { InvalidRequest } from '../../errors.js'
import type { FormParams } from '../../http/form-params.js'
import { inspectToken } from '../../tokens/inspect-token.js'
import { issueAccessToken } from '../../tokens/issue-access-token.js'
import { isReferenceToken } from '../../tokens/reference-tokens.js'
import type { Grant } from './grant.js'
import { grantTargets } from './grant-targets.js'
import { actDepth, audienceList, type AccessTokenClaims, type ActClaim } from '@meshguard/token'

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'

/** RFC 8693 §3: the token types this server accepts and issues. */
export const tokenTypes = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
} as const

const EXCHANGEABLE: ReadonlySet<string> = new Set([tokenTypes.accessToken, tokenTypes.jwt])

/**
 * RFC 8693 token exchange for delegation. A service that received a token exchanges it for
 * one addressed to the next service: the subject stays, the service is added to the `act`
 * chain, scope can only narrow, and the new token never outlives the one it came from.
 * RFC 8693 §2.2.2: an unacceptable subject or actor token is `invalid_request`.
 * RFC 8705 §3: the new token is bound to the certificate the requesting client authenticated
 * with, if it did; the subject token's own binding belongs to its holder and is not carried over.
 * Subject and actor tokens may be reference tokens, resolved first; the new token is a reference
 * token when the requesting client is registered for them (`issued_token_type` stays
 * `access_token`, RFC 8693 §3).
 */
export const tokenExchange: Grant = {
  grantType: TOKEN_EXCHANGE_GRANT,
  async handle(ctx, { client, params, confirmation }) {
    const subject = await exchangeableToken(ctx, params, 'subject_token')
    if (!audienceList(subject.aud).includes(client.id)) {
      throw new InvalidRequest('subject_token was not issued to the requesting client (it is not in its aud)')
    }
    if (params.has('actor_token') || params.has('actor_token_type')) {
      const actor = await exchangeableToken(ctx, params, 'actor_token')
      if (actor.sub !== client.id) throw new InvalidRequest('actor_token does not identify the requesting client')
    }
    // RFC 8693 §4.4: may_act names the only party allowed to act for the subject.
    if (subject.may_act !== undefined && subject.may_act.sub !== client.id) {
      throw new InvalidRequest('the subject_token may_act claim does not allow this client to act for it')
    }
    const act: ActClaim = subject.act ? { sub: client.id, act: subject.act } : { sub: client.id }
    if (actDepth(act) > ctx.config.tokens.maxChainDepth) {
      throw new InvalidRequest(`delegation chain would exceed the maximum depth of ${ctx.config.tokens.maxChainDepth}`)
    }

    const subjectScopes = subject.scope.split(' ').filter(Boolean)
    const { scopes, audience } = await grantTargets(ctx, params, {
      scope: params.get('scope'),
      limits: [
        { scopes: subjectScopes, refusal: "scope is wider than the subject_token's" },
        { scopes: client.scopes, refusal: 'scope not allowed for this client' },
      ],
      defaults: subjectScopes.filter((scope) => client.scopes.includes(scope)),
    })
    const issued = await issueAccessToken(ctx, {
      subject: subject.sub,
      clientId: client.id,
      scopes,
      audience,
      act,
      notAfter: subject.exp,
      confirmation,
      format: client.tokenFormat,
    })
    return {
      claims: issued.claims,
      body: {
        access_token: issued.token,
        issued_token_type: tokenTypes.accessToken,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        scope: issued.claims.scope,
      },
    }
  },
}

async function exchangeableToken(
  ctx: ServerContext,
  params: FormParams,
  name: 'subject_token' | 'actor_token',
): Promise<AccessTokenClaims> {
  const token = params.require(name)
  const type = params.require(`${name}_type`)
  if (type === tokenTypes.idToken) throw new InvalidRequest(`${name}_type id_token is not accepted: only access tokens can be exchanged`)
  if (!EXCHANGEABLE.has(type)) throw new InvalidRequest(`${name}_type ${type} is not supported`)
  // RFC 8693 §3: the jwt type says the token is a JWT, which an opaque token is not.
  if (type === tokenTypes.jwt && isReferenceToken(token)) {
    throw new InvalidRequest(`${name} is a reference token, not a JWT: its ${name}_type is ${tokenTypes.accessToken}`)
  }
  const inspection = await inspectToken(ctx, token)
  if (!inspection.active) throw new InvalidRequest(`${name} is not valid: ${inspection.reason.replaceAll('_', ' ')}`)
  return inspection.claims
}
