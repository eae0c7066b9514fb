import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose'
import type { ServerContext } from '../context.js'
import type { ClientRecord, SessionRecord } from '../store/store.js'
import { currentSession, type BrowserRequest, type FlowResult } from './authorize-flow.js'
import { clearSessionCookie, readCookie, SESSION_COOKIE } from './cookies.js'
import { revokeUserGrant } from './grant-tokens.js'
import { authorizationResponseUrl } from './redirect-uri.js'
import { endpointPaths, issuerPath } from '../context.js'
import { isSecret, matchesCsrfToken, secretHash } from './secrets.js'

/**
 * OpenID Connect RP-Initiated Logout 1.0. The browser is sent back only to a post-logout URI
 * registered for the client that the `id_token_hint` or `client_id` names. An ID token of the
 * signed-in user ends the session at once; anything else asks the user to confirm, with a form
 * only this session can submit. Ending a session revokes the grants made in it, except
 * `offline_access` ones.
 */
export async function endSession(ctx: ServerContext, browser: BrowserRequest, method: 'GET' | 'POST'): Promise<FlowResult> {
  const { params } = browser
  let hint: { sub?: unknown; aud?: unknown } | undefined
  const idTokenHint = params.get('id_token_hint')
  if (idTokenHint !== undefined) {
    hint = await verifiedHint(ctx, idTokenHint)
    if (hint === undefined) return errorPage('The sign-out request is not valid', 'Its id_token_hint was not issued by this server.')
  }
  const hintedClient = typeof hint?.aud === 'string' ? hint.aud : undefined
  const clientId = params.get('client_id') ?? hintedClient
  if (hintedClient !== undefined && clientId !== hintedClient) {
    return errorPage('The sign-out request is not valid', 'Its client_id differs from the audience of its id_token_hint.')
  }
  const client = clientId === undefined ? undefined : await ctx.directory.getClient(clientId)
  const postLogoutUri = params.get('post_logout_redirect_uri')
  if (postLogoutUri !== undefined && !client?.postLogoutRedirectUris.includes(postLogoutUri)) {
    return errorPage('The sign-out request is not valid', 'Its post_logout_redirect_uri is not registered for the application.')
  }
  const done = (cookies?: string[]): FlowResult =>
    postLogoutUri === undefined
      ? { kind: 'page', status: 200, page: { view: 'signed-out' }, cookies }
      : { kind: 'redirect', location: authorizationResponseUrl(postLogoutUri, { state: params.get('state') }), cookies }

  const session = await currentSession(ctx, browser.cookieHeader)
  if (session === undefined) return done()
  const confirmed =
    (hint !== undefined && hint.sub === session.userId) ||
    (method === 'POST' && params.get('decision') === 'logout' && matchesCsrfToken(params.get('csrf_token'), session.csrfToken))
  if (!confirmed) return confirmationPage(ctx, session, client, postLogoutUri, params.get('state'))

  await end(ctx, session, browser.cookieHeader)
  return done([clearSessionCookie(ctx)])
}

async function end(ctx: ServerContext, session: SessionRecord, cookieHeader: string | undefined): Promise<void> {
  const id = readCookie(cookieHeader, SESSION_COOKIE)
  if (isSecret('session', id)) await ctx.store.deleteSession(secretHash(id))
  for (const grantId of await ctx.store.listSessionGrants(session.idHash)) await revokeUserGrant(ctx, grantId, 'session ended')
  ctx.audit.record({ ts: ctx.clock.now(), type: 'session.ended', decision: 'allow', subject: session.userId, reason: 'logout' })
}

function confirmationPage(
  ctx: ServerContext,
  session: SessionRecord,
  client: ClientRecord | undefined,
  postLogoutUri: string | undefined,
  state: string | undefined,
): FlowResult {
  const fields: Record<string, string> = {}
  if (client) fields.client_id = client.id
  if (postLogoutUri !== undefined) fields.post_logout_redirect_uri = postLogoutUri
  if (state !== undefined) fields.state = state
  return {
    kind: 'page',
    status: 200,
    page: { view: 'logout', action: `${issuerPath(ctx.issuer)}${endpointPaths.endSession}`, csrfToken: session.csrfToken, fields },
  }
}

/** An ID token this server signed, expired or not (the hint names a past sign-in). */
async function verifiedHint(ctx: ServerContext, token: string): Promise<{ sub?: unknown; aud?: unknown } | undefined> {
  try {
    const keys = createLocalJWKSet(JSON.parse(ctx.keys.jwksJson()) as JSONWebKeySet)
    const { payload, protectedHeader } = await compactVerify(token, keys)
    if (protectedHeader.typ !== 'JWT') return undefined
    const claims = JSON.parse(new TextDecoder().decode(payload)) as { iss?: unknown; sub?: unknown; aud?: unknown }
    return claims.iss === ctx.issuer ? claims : undefined
  } catch {
    return undefined
  }
}

function errorPage(title: string, message: string): FlowResult {
  return { kind: 'page', status: 400, page: { view: 'error', title, message } }
}

