import { randomUUID } from 'node:crypto'
import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { AuthorizationError, InvalidScope, InvalidTarget } from '../errors.js'
import { FormParams } from '../http/form-params.js'
import { grantTargets } from '../actions/grants/grant-targets.js'
import type { ClientRecord, InteractionRecord, SessionRecord, UserRecord } from '../store/store.js'
import { parseAuthorizationRequest, UntrustedRedirect, type AuthorizationRequest } from './authorization-request.js'
import {
  clearInteractionCookie,
  INTERACTION_COOKIE,
  interactionPath,
  readCookie,
  SESSION_COOKIE,
  setInteractionCookie,
  setSessionCookie,
} from './cookies.js'
import { OIDC_SCOPES } from './oidc-scopes.js'
import type { Page } from './pages.js'
import { authorizationResponseUrl } from './redirect-uri.js'
import { isSecret, matchesCsrfToken, newCsrfToken, newSecret, secretHash } from './secrets.js'

/** What a browser sent: the request's parameters, its cookies and where it came from. */
export interface BrowserRequest {
  params: FormParams
  cookieHeader: string | undefined
  ip: string
}

/** What to answer: a redirect (to the client, or to the next step here) or a page. */
export type FlowResult =
  | { kind: 'redirect'; location: string; cookies?: string[] | undefined }
  | PageResult

type PageResult = { kind: 'page'; status: number; page: Page; cookies?: string[] | undefined; retryAfterSec?: number | undefined }

/** A stored interaction holds the validated request with the audience its scopes resolve to. */
export interface PendingRequest extends AuthorizationRequest {
  audience: string[]
}

/**
 * `/authorize` (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2). A request that passes every check
 * is answered at once with a code when the browser's session and the user's consent cover it;
 * otherwise it is kept as an interaction and the browser is sent to sign in or consent.
 */
export async function authorize(ctx: ServerContext, browser: BrowserRequest): Promise<FlowResult> {
  let parsed
  try {
    parsed = await parseAuthorizationRequest(ctx, browser.params)
  } catch (err) {
    if (!(err instanceof UntrustedRedirect)) throw err
    audit(ctx, 'deny', err.error, { client_id: browser.params.get('client_id'), description: err.description })
    return errorPage(400, 'This sign-in request is not valid', err.description)
  }
  if (!parsed.ok) return refuse(ctx, parsed.client, parsed.redirectUri, parsed.state, parsed.error)
  const { client } = parsed

  let request: PendingRequest
  try {
    request = { ...parsed.request, audience: await audienceOf(ctx, parsed.request) }
  } catch (err) {
    if (!(err instanceof InvalidScope || err instanceof InvalidTarget)) throw err
    return refuse(ctx, client, parsed.request.redirectUri, parsed.request.state, new AuthorizationError(err.error, err.description))
  }

  const now = epochSeconds(ctx.clock)
  const session = await currentSession(ctx, browser.cookieHeader)
  const user = session && (await ctx.store.getUser(session.userId))
  const mustSignIn =
    session === undefined ||
    user === undefined ||
    request.prompt.includes('login') ||
    (request.maxAge !== undefined && now - session.authTime > request.maxAge)
  if (mustSignIn && request.prompt.includes('none')) {
    return refuse(ctx, client, request.redirectUri, request.state, new AuthorizationError('login_required', 'the user is not signed in'))
  }
  const mustConsent = !mustSignIn && (request.prompt.includes('consent') || !(await consentCovers(ctx, user.id, client.id, request.scopes)))
  if (mustConsent && request.prompt.includes('none')) {
    return refuse(ctx, client, request.redirectUri, request.state, new AuthorizationError('consent_required', 'the user has not consented to this request'))
  }
  if (!mustSignIn && !mustConsent) return complete(ctx, client, request, session, user)

  const id = newSecret('interaction')
  const ttl = ctx.config.authorization.interactionTtlSec
  const interaction: InteractionRecord = {
    idHash: secretHash(id),
    csrfToken: newCsrfToken(),
    clientId: client.id,
    request: request as unknown as Record<string, unknown>,
    userId: mustSignIn ? null : user.id,
    authTime: mustSignIn ? null : session.authTime,
    createdAt: now,
    expiresAt: now + ttl,
  }
  await ctx.store.createInteraction(interaction)
  return { kind: 'redirect', location: interactionUrl(ctx, id), cookies: [setInteractionCookie(ctx, id, ttl)] }
}

/** `GET /interaction/<id>`: the sign-in page, the consent page, or the redirect back to the client. */
export async function showInteraction(ctx: ServerContext, id: string, browser: BrowserRequest): Promise<FlowResult> {
  const found = await findInteraction(ctx, id, browser)
  if ('kind' in found) return found
  const { interaction, client, request } = found
  const session = await currentSession(ctx, browser.cookieHeader)
  if (interaction.userId === null || session?.userId !== interaction.userId) return loginPage(ctx, id, interaction, client, 200)
  const user = await ctx.store.getUser(session.userId)
  if (user === undefined) return loginPage(ctx, id, interaction, client, 200)
  if (request.prompt.includes('consent') || !(await consentCovers(ctx, user.id, client.id, request.scopes))) {
    return consentPage(ctx, id, interaction, client, user, request)
  }
  return complete(ctx, client, request, session, user, interaction, id)
}

/** `POST /interaction/<id>/login`: checks the password; a new session replaces any other. */
export async function submitLogin(ctx: ServerContext, id: string, browser: BrowserRequest): Promise<FlowResult> {
  const found = await findInteraction(ctx, id, browser, { csrf: true })
  if ('kind' in found) return found
  const { interaction, client } = found
  const username = browser.params.get('username') ?? ''
  const outcome = await ctx.userAuthenticator.authenticateUser({ username, password: browser.params.get('password') ?? '', ip: browser.ip })
  if (!outcome.ok) {
    if (outcome.error === 'ERR_LOGIN_THROTTLED') {
      const page = loginPage(ctx, id, interaction, client, 429, username, `Too many failed attempts. Try again in ${outcome.retryAfterSec} second${outcome.retryAfterSec === 1 ? '' : 's'}.`)
      return { ...page, retryAfterSec: outcome.retryAfterSec }
    }
    return loginPage(ctx, id, interaction, client, 401, username, 'The username or password is incorrect.')
  }

  const now = epochSeconds(ctx.clock)
  const previous = readCookie(browser.cookieHeader, SESSION_COOKIE)
  if (isSecret('session', previous)) await ctx.store.deleteSession(secretHash(previous))
  const sessionId = newSecret('session')
  const ttl = ctx.config.authorization.sessionTtlSec
  await ctx.store.createSession({
    idHash: secretHash(sessionId),
    userId: outcome.user.id,
    authTime: now,
    csrfToken: newCsrfToken(),
    createdAt: now,
    expiresAt: now + ttl,
  })
  if (!(await ctx.store.setInteractionUser(interaction.idHash, outcome.user.id, now))) return expiredPage()
  return { kind: 'redirect', location: interactionUrl(ctx, id), cookies: [setSessionCookie(ctx, sessionId, ttl)] }
}

/** `POST /interaction/<id>/consent`: `decision=allow` remembers the consent and issues the code; anything else is `access_denied`. */
export async function submitConsent(ctx: ServerContext, id: string, browser: BrowserRequest): Promise<FlowResult> {
  const found = await findInteraction(ctx, id, browser, { csrf: true })
  if ('kind' in found) return found
  const { interaction, client, request } = found
  const session = await currentSession(ctx, browser.cookieHeader)
  const user = session?.userId === interaction.userId ? await ctx.store.getUser(session.userId) : undefined
  if (session === undefined || user === undefined) return loginPage(ctx, id, interaction, client, 200)

  if (browser.params.get('decision') !== 'allow') {
    if (!(await ctx.store.deleteInteraction(interaction.idHash))) return expiredPage()
    return refuse(ctx, client, request.redirectUri, request.state, new AuthorizationError('access_denied', 'the user denied the request'), [
      clearInteractionCookie(ctx, id),
    ])
  }
  const previous = await ctx.store.getConsent(user.id, client.id)
  await ctx.store.saveConsent({
    userId: user.id,
    clientId: client.id,
    scopes: [...new Set([...(previous?.scopes ?? []), ...request.scopes])],
    updatedAt: epochSeconds(ctx.clock),
  })
  return complete(ctx, client, request, session, user, interaction, id)
}

/**
 * Issues the authorization code: a new grant, bound to the session unless `offline_access` was
 * granted, and a single-use code bound to the client, the redirect URI and the PKCE challenge.
 * The interaction, if any, is ended first: of two submissions, only one gets a code.
 */
async function complete(
  ctx: ServerContext,
  client: ClientRecord,
  request: PendingRequest,
  session: SessionRecord,
  user: UserRecord,
  interaction?: InteractionRecord,
  interactionId?: string,
): Promise<FlowResult> {
  if (interaction && !(await ctx.store.deleteInteraction(interaction.idHash))) return expiredPage()
  const { code, grantId } = await issueAuthorizationCode(ctx, { client, request, session, user })
  audit(ctx, 'allow', 'code_issued', { client_id: client.id, grant_id: grantId, scope: request.scopes.join(' ') }, user.id)
  return {
    kind: 'redirect',
    location: authorizationResponseUrl(request.redirectUri, { code, state: request.state, iss: ctx.issuer }),
    cookies: interactionId === undefined ? undefined : [clearInteractionCookie(ctx, interactionId)],
  }
}

export interface CodeRequest {
  client: ClientRecord
  request: PendingRequest
  session: SessionRecord
  user: UserRecord
}

/** Stores a grant and its code; returns the code. Exported for benchmarks, which mint codes without a browser. */
export async function issueAuthorizationCode(ctx: ServerContext, { client, request, session, user }: CodeRequest): Promise<{ code: string; grantId: string }> {
  const now = epochSeconds(ctx.clock)
  const offline = request.scopes.includes('offline_access')
  const code = newSecret('code')
  const grantId = randomUUID()
  await ctx.store.createGrantWithCode(
    {
      id: grantId,
      clientId: client.id,
      userId: user.id,
      scopes: request.scopes,
      audience: request.audience,
      sessionIdHash: offline ? null : session.idHash,
      authTime: session.authTime,
      createdAt: now,
      expiresAt: offline ? now + ctx.config.authorization.offlineGrantTtlSec : session.expiresAt,
      revokedAt: null,
    },
    {
      codeHash: secretHash(code),
      grantId,
      clientId: client.id,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge ?? null,
      nonce: request.nonce ?? null,
      createdAt: now,
      expiresAt: now + ctx.config.authorization.codeTtlSec,
      consumedAt: null,
    },
  )
  return { code, grantId }
}

/** The browser's session, if its cookie names one that has not ended. */
export async function currentSession(ctx: ServerContext, cookieHeader: string | undefined): Promise<SessionRecord | undefined> {
  const id = readCookie(cookieHeader, SESSION_COOKIE)
  if (!isSecret('session', id)) return undefined
  return ctx.store.getSession(secretHash(id), epochSeconds(ctx.clock))
}

type FoundInteraction = { interaction: InteractionRecord; client: ClientRecord; request: PendingRequest }

/**
 * The interaction the URL names, only for the browser whose cookie names it too (a link
 * opened elsewhere cannot continue someone's sign-in), and with the form's CSRF token when
 * one is posted.
 */
async function findInteraction(
  ctx: ServerContext,
  id: string,
  browser: BrowserRequest,
  check: { csrf?: boolean } = {},
): Promise<FoundInteraction | FlowResult> {
  if (!isSecret('interaction', id) || readCookie(browser.cookieHeader, INTERACTION_COOKIE) !== id) {
    return errorPage(400, 'This sign-in link cannot be used here', 'Start again from the application you were signing in to.')
  }
  const interaction = await ctx.store.getInteraction(secretHash(id), epochSeconds(ctx.clock))
  if (interaction === undefined) return expiredPage()
  if (check.csrf && !matchesCsrfToken(browser.params.get('csrf_token'), interaction.csrfToken)) {
    audit(ctx, 'deny', 'csrf', { client_id: interaction.clientId })
    return errorPage(403, 'This form has expired', 'Reload the page and try again.')
  }
  const client = await ctx.directory.getClient(interaction.clientId)
  if (client === undefined) return errorPage(400, 'This sign-in request is not valid', 'The application is no longer registered.')
  return { interaction, client, request: interaction.request as unknown as PendingRequest }
}

async function consentCovers(ctx: ServerContext, userId: string, clientId: string, scopes: readonly string[]): Promise<boolean> {
  const consent = await ctx.store.getConsent(userId, clientId)
  return consent !== undefined && scopes.every((scope) => consent.scopes.includes(scope))
}

/** The resource servers of the API scopes (RFC 8707 `resource` narrowing them), or the issuer itself for `/userinfo` alone. */
async function audienceOf(ctx: ServerContext, request: AuthorizationRequest): Promise<string[]> {
  const apiScopes = request.scopes.filter((scope) => !OIDC_SCOPES.has(scope))
  if (apiScopes.length === 0) return [ctx.issuer]
  const params = FormParams.parse(new URLSearchParams(request.resources.map((resource): [string, string] => ['resource', resource])).toString())
  const { audience } = await grantTargets(ctx, params, { scope: apiScopes.join(' '), limits: [], defaults: [] })
  return audience
}

function refuse(
  ctx: ServerContext,
  client: ClientRecord,
  redirectUri: string,
  state: string | undefined,
  error: AuthorizationError,
  cookies?: string[],
): FlowResult {
  audit(ctx, 'deny', error.error, { client_id: client.id, description: error.description })
  return {
    kind: 'redirect',
    location: authorizationResponseUrl(redirectUri, { error: error.error, error_description: error.description, state, iss: ctx.issuer }),
    cookies,
  }
}

function loginPage(
  ctx: ServerContext,
  id: string,
  interaction: InteractionRecord,
  client: ClientRecord,
  status: number,
  username?: string,
  error?: string,
): PageResult {
  return {
    kind: 'page',
    status,
    page: {
      view: 'login',
      clientId: client.id,
      action: `${interactionPath(ctx, id)}/login`,
      csrfToken: interaction.csrfToken,
      redirectUri: (interaction.request as unknown as PendingRequest).redirectUri,
      username,
      error,
    },
  }
}

function consentPage(ctx: ServerContext, id: string, interaction: InteractionRecord, client: ClientRecord, user: UserRecord, request: PendingRequest): FlowResult {
  return {
    kind: 'page',
    status: 200,
    page: {
      view: 'consent',
      clientId: client.id,
      action: `${interactionPath(ctx, id)}/consent`,
      csrfToken: interaction.csrfToken,
      redirectUri: request.redirectUri,
      username: user.username,
      scopes: request.scopes,
    },
  }
}

function interactionUrl(ctx: ServerContext, id: string): string {
  return `${new URL(ctx.issuer).origin}${interactionPath(ctx, id)}`
}

function errorPage(status: number, title: string, message: string): FlowResult {
  return { kind: 'page', status, page: { view: 'error', title, message } }
}

function expiredPage(): FlowResult {
  return errorPage(400, 'This sign-in has ended', 'It was completed or took too long. Start again from the application.')
}


function audit(ctx: ServerContext, decision: 'allow' | 'deny', reason: string, details: Record<string, unknown>, subject?: string): void {
  ctx.audit.record({ ts: ctx.clock.now(), type: 'authorization', decision, clientId: details.client_id as string | undefined, subject, reason, details })
}
