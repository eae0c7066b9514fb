import { serialize } from 'cookie'
import { currentSession } from '../authorize/authorize-flow.js'
import { readCookie } from '../authorize/cookies.js'
import { matchesCsrfToken, newCsrfToken } from '../authorize/secrets.js'
import { isLoopbackHost } from '../config/schema.js'
import type { ServerContext } from '../context.js'
import type { SessionRecord, UserRecord } from '../store/store.js'
import { ConsoleError } from './console-error.js'
import { consoleBase } from './console-pages.js'

/** A signed-in administrator: the console's only kind of user. */
export interface ConsoleAdmin {
  user: UserRecord
  session: SessionRecord
}

/** Who is at the console: nobody signed in, an administrator, or a user who is not one. */
export type Visitor =
  | { kind: 'signed-out' }
  | { kind: 'admin'; admin: ConsoleAdmin }
  | { kind: 'not-admin'; user: UserRecord; session: SessionRecord }

/** The synchronizer token of the sign-in form, before there is a session to hold one (a double-submit cookie). */
export const LOGIN_CSRF_COOKIE = 'mg_console_login'
const CSRF_TOKEN = /^[A-Za-z0-9_-]{22}$/
const LOGIN_CSRF_TTL_SEC = 3600

/** The browser's `mg_session` (the same session the sign-in pages make) and its user. */
export async function consoleVisitor(ctx: ServerContext, cookieHeader: string | undefined): Promise<Visitor> {
  const session = await currentSession(ctx, cookieHeader)
  const user = session && (await ctx.store.getUser(session.userId))
  if (session === undefined || user === undefined) return { kind: 'signed-out' }
  return user.admin ? { kind: 'admin', admin: { user, session } } : { kind: 'not-admin', user, session }
}

export interface ApiRequest {
  method: string
  cookieHeader: string | undefined
  /** `X-CSRF-Token`: the session's synchronizer token, required on every call that changes something. */
  csrfHeader: string | string[] | undefined
}

/**
 * The administrator an API call is made by. `ERR_CONSOLE_SIGN_IN_REQUIRED` without a session,
 * `ERR_CONSOLE_NOT_ADMIN` for a user who is not an administrator, `ERR_CONSOLE_CSRF` for a call
 * other than GET without the session's token in `X-CSRF-Token` (a cross-site page can send the
 * cookie but cannot read the token or set the header).
 */
export async function requireAdmin(ctx: ServerContext, request: ApiRequest): Promise<ConsoleAdmin> {
  const visitor = await consoleVisitor(ctx, request.cookieHeader)
  if (visitor.kind === 'signed-out') throw new ConsoleError('ERR_CONSOLE_SIGN_IN_REQUIRED', 'sign in to the console first')
  if (visitor.kind === 'not-admin') {
    refused(ctx, 'not_admin', visitor.user)
    throw new ConsoleError('ERR_CONSOLE_NOT_ADMIN', `${visitor.user.username} is not an administrator`)
  }
  const safe = request.method === 'GET' || request.method === 'HEAD'
  const sent = typeof request.csrfHeader === 'string' ? request.csrfHeader : undefined
  if (!safe && !matchesCsrfToken(sent, visitor.admin.session.csrfToken)) {
    refused(ctx, 'csrf', visitor.admin.user)
    throw new ConsoleError('ERR_CONSOLE_CSRF', 'the X-CSRF-Token header is missing or does not match the session: reload the console')
  }
  return visitor.admin
}

function refused(ctx: ServerContext, reason: string, user: UserRecord): void {
  ctx.audit.record({ ts: ctx.clock.now(), type: 'console.refused', decision: 'deny', subject: user.id, reason, details: { username: user.username } })
}

/** The sign-in form's token: the one the browser already holds, or a new one. */
export function loginCsrfToken(cookieHeader: string | undefined): { token: string; fresh: boolean } {
  const held = readCookie(cookieHeader, LOGIN_CSRF_COOKIE)
  return held !== undefined && CSRF_TOKEN.test(held) ? { token: held, fresh: false } : { token: newCsrfToken(), fresh: true }
}

/** Whether a posted sign-in form carries the token its browser's cookie holds. */
export function loginCsrfMatches(cookieHeader: string | undefined, sent: string | undefined): boolean {
  const held = readCookie(cookieHeader, LOGIN_CSRF_COOKIE)
  return held !== undefined && CSRF_TOKEN.test(held) && matchesCsrfToken(sent, held)
}

/** `HttpOnly`, `SameSite=Strict`, scoped to the sign-in path; `Secure` unless the issuer is plain HTTP on loopback. */
export function loginCsrfCookie(ctx: ServerContext, token: string | undefined): string {
  const issuer = new URL(ctx.issuer)
  const secure = issuer.protocol === 'https:' || !isLoopbackHost(issuer.hostname)
  const options = { httpOnly: true, sameSite: 'strict', secure, path: `${consoleBase(ctx)}/login` } as const
  return token === undefined
    ? serialize(LOGIN_CSRF_COOKIE, '', { ...options, maxAge: 0, expires: new Date(0) })
    : serialize(LOGIN_CSRF_COOKIE, token, { ...options, maxAge: LOGIN_CSRF_TTL_SEC })
}
