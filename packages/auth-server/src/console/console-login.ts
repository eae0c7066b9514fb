import { epochSeconds } from '../clock.js'
import { currentSession } from '../authorize/authorize-flow.js'
import { clearSessionCookie, readCookie, SESSION_COOKIE, setSessionCookie } from '../authorize/cookies.js'
import { revokeUserGrant } from '../authorize/grant-tokens.js'
import { isSecret, matchesCsrfToken, newCsrfToken, newSecret, secretHash } from '../authorize/secrets.js'
import type { ServerContext } from '../context.js'
import type { FormParams } from '../http/form-params.js'
import { consoleBase, type ConsolePage } from './console-pages.js'
import { consoleVisitor, loginCsrfCookie, loginCsrfMatches, loginCsrfToken } from './console-session.js'

/** What a browser sent to one of the console's pages. */
export interface PageRequest {
  params: FormParams
  cookieHeader: string | undefined
  ip: string
}

/** A page to show, or where to send the browser. */
export type PageResult =
  | { kind: 'page'; status: number; page: ConsolePage; cookies?: string[] | undefined; retryAfterSec?: number | undefined }
  | { kind: 'redirect'; location: string; cookies?: string[] | undefined }

/** `GET /console`: the shell for an administrator, the sign-in form for anyone else. */
export async function showConsole(ctx: ServerContext, cookieHeader: string | undefined): Promise<PageResult> {
  const visitor = await consoleVisitor(ctx, cookieHeader)
  switch (visitor.kind) {
    case 'signed-out':
      return { kind: 'redirect', location: `${consoleBase(ctx)}/login` }
    case 'not-admin':
      ctx.audit.record({ ts: ctx.clock.now(), type: 'console.refused', decision: 'deny', subject: visitor.user.id, reason: 'not_admin', details: { username: visitor.user.username } })
      return notAdmin(visitor.user.username, visitor.session.csrfToken)
    case 'admin':
      return { kind: 'page', status: 200, page: { view: 'shell', csrfToken: visitor.admin.session.csrfToken, username: visitor.admin.user.username } }
  }
}

/** `GET /console/login`: an administrator already signed in goes straight to the console. */
export async function showLogin(ctx: ServerContext, cookieHeader: string | undefined): Promise<PageResult> {
  if ((await consoleVisitor(ctx, cookieHeader)).kind === 'admin') return { kind: 'redirect', location: consoleBase(ctx) }
  return loginPage(ctx, cookieHeader, 200)
}

/**
 * `POST /console/login`: the password checked by the same throttled authenticator as the
 * sign-in pages; an administrator gets a new `mg_session` (replacing any other, so a planted
 * session id is never promoted), anyone else a refusal and no session.
 */
export async function submitLogin(ctx: ServerContext, request: PageRequest): Promise<PageResult> {
  const username = request.params.get('username') ?? ''
  if (!loginCsrfMatches(request.cookieHeader, request.params.get('csrf_token'))) {
    return loginPage(ctx, undefined, 403, username, 'The form expired. Try again.')
  }
  const outcome = await ctx.userAuthenticator.authenticateUser({ username, password: request.params.get('password') ?? '', ip: request.ip })
  if (!outcome.ok) {
    if (outcome.error === 'ERR_LOGIN_THROTTLED') {
      const wait = `${outcome.retryAfterSec} second${outcome.retryAfterSec === 1 ? '' : 's'}`
      return { ...loginPage(ctx, request.cookieHeader, 429, username, `Too many failed attempts. Try again in ${wait}.`), retryAfterSec: outcome.retryAfterSec }
    }
    return loginPage(ctx, request.cookieHeader, 401, username, 'The username or password is incorrect.')
  }
  const { user } = outcome
  if (!user.admin) {
    ctx.audit.record({ ts: ctx.clock.now(), type: 'console.refused', decision: 'deny', subject: user.id, reason: 'not_admin', details: { username: user.username } })
    return notAdmin(user.username)
  }

  const now = epochSeconds(ctx.clock)
  const previous = readCookie(request.cookieHeader, SESSION_COOKIE)
  if (isSecret('session', previous)) await ctx.store.deleteSession(secretHash(previous))
  const sessionId = newSecret('session')
  const ttl = ctx.config.authorization.sessionTtlSec
  await ctx.store.createSession({ idHash: secretHash(sessionId), userId: user.id, authTime: now, csrfToken: newCsrfToken(), createdAt: now, expiresAt: now + ttl })
  return { kind: 'redirect', location: consoleBase(ctx), cookies: [setSessionCookie(ctx, sessionId, ttl), loginCsrfCookie(ctx, undefined)] }
}

/**
 * `POST /console/logout`: ends the session as RP-initiated logout does, revoking the grants made
 * in it (not `offline_access` ones); the form must carry the session's token.
 */
export async function logout(ctx: ServerContext, request: PageRequest): Promise<PageResult> {
  const session = await currentSession(ctx, request.cookieHeader)
  const toLogin: PageResult = { kind: 'redirect', location: `${consoleBase(ctx)}/login`, cookies: [clearSessionCookie(ctx)] }
  if (session === undefined) return toLogin
  if (!matchesCsrfToken(request.params.get('csrf_token'), session.csrfToken)) {
    return { kind: 'page', status: 403, page: { view: 'refused', title: 'This form has expired', message: 'Reload the page and try again.', signOutCsrfToken: session.csrfToken } }
  }
  await ctx.store.deleteSession(session.idHash)
  for (const grantId of await ctx.store.listSessionGrants(session.idHash)) await revokeUserGrant(ctx, grantId, 'session ended')
  ctx.audit.record({ ts: ctx.clock.now(), type: 'session.ended', decision: 'allow', subject: session.userId, reason: 'console logout' })
  return toLogin
}

function loginPage(ctx: ServerContext, cookieHeader: string | undefined, status: number, username?: string, error?: string): Extract<PageResult, { kind: 'page' }> {
  const { token, fresh } = loginCsrfToken(cookieHeader)
  return {
    kind: 'page',
    status,
    page: { view: 'login', csrfToken: token, username, error },
    cookies: fresh ? [loginCsrfCookie(ctx, token)] : undefined,
  }
}

function notAdmin(username: string, signOutCsrfToken?: string): PageResult {
  return {
    kind: 'page',
    status: 403,
    page: {
      view: 'refused',
      title: 'Administrators only',
      message: `${username} is not an administrator. Only administrators can use the console: sign in with an administrator's account, or ask one to give you access.`,
      signOutCsrfToken,
    },
  }
}
