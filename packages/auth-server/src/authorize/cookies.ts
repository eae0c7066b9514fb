import { parse, serialize, type SerializeOptions } from 'cookie'
import { isLoopbackHost } from '../config/schema.js'
import { endpointPaths, issuerPath, type ServerContext } from '../context.js'

/** The sign-in session. */
export const SESSION_COOKIE = 'mg_session'
/** One pending authorization request; scoped to its own path, so several tabs never collide. */
export const INTERACTION_COOKIE = 'mg_interaction'

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  return parse(header)[name]
}

/**
 * `HttpOnly`, `SameSite=Lax` (sent on the top-level redirect back from a client, not on its
 * cross-site posts) and `Secure` unless the issuer is plain HTTP on loopback, where browsers
 * would drop it.
 */
function options(ctx: ServerContext, path: string, maxAge: number): SerializeOptions {
  const issuer = new URL(ctx.issuer)
  const secure = issuer.protocol === 'https:' || !isLoopbackHost(issuer.hostname)
  return { httpOnly: true, sameSite: 'lax', secure, path, maxAge }
}

export function sessionCookiePath(ctx: ServerContext): string {
  return issuerPath(ctx.issuer) || '/'
}

export function interactionPath(ctx: ServerContext, id: string): string {
  return `${issuerPath(ctx.issuer)}${endpointPaths.interaction}/${id}`
}

export function setSessionCookie(ctx: ServerContext, id: string, maxAge: number): string {
  return serialize(SESSION_COOKIE, id, options(ctx, sessionCookiePath(ctx), maxAge))
}

export function clearSessionCookie(ctx: ServerContext): string {
  return serialize(SESSION_COOKIE, '', { ...options(ctx, sessionCookiePath(ctx), 0), expires: new Date(0) })
}

export function setInteractionCookie(ctx: ServerContext, id: string, maxAge: number): string {
  return serialize(INTERACTION_COOKIE, id, options(ctx, interactionPath(ctx, id), maxAge))
}

export function clearInteractionCookie(ctx: ServerContext, id: string): string {
  return serialize(INTERACTION_COOKIE, '', { ...options(ctx, interactionPath(ctx, id), 0), expires: new Date(0) })
}
