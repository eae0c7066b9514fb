import type { FastifyRequest } from 'fastify'
import type { RequestAuth, VerificationError, VerifiedToken, Verifier } from '@meshguard/service-kit'
import type { CallEvent } from '../runtime/call-reporter.js'

const MAX_PATH = 2048

/**
 * The event for a call the kit let through. The caller is the client that made this hop: the
 * `X-Scope-Token`'s when it granted the call (seed 004: the service that forwarded the caller's
 * token), else the caller token's (with delegation, the last service to exchange it). The subject
 * and the chain come from the caller's token.
 */
export function allowedCall(service: string, request: FastifyRequest, auth: RequestAuth, now: number): CallEvent {
  const { caller, scopeToken, grantedBy } = auth
  return {
    ts: now,
    decision: 'allow',
    service,
    caller: (grantedBy === 'scope-token' ? scopeToken?.clientId : caller?.clientId) ?? null,
    subject: caller?.subject ?? null,
    act: caller !== undefined && caller.chain.length > 0 ? [...caller.chain] : null,
    method: request.method,
    path: pathOf(request),
  }
}

/**
 * The event for a call the kit refused, with its code. Who called is reported only as far as the
 * verifier has already verified their tokens (its cache): an unverifiable token names nobody.
 */
export function refusedCall(service: string, request: FastifyRequest, err: VerificationError, verifier: Verifier, now: number): CallEvent {
  const caller = verified(verifier, bearer(request.headers.authorization))
  const scopeToken = verified(verifier, bearer(request.headers['x-scope-token']) ?? header(request.headers['x-scope-token']))
  const hop = scopeToken !== undefined && !scopeToken.forwarded ? scopeToken : caller
  return {
    ts: now,
    decision: 'deny',
    service,
    caller: hop?.clientId ?? null,
    subject: caller?.subject ?? null,
    act: caller !== undefined && caller.chain.length > 0 ? [...caller.chain] : null,
    method: request.method,
    path: pathOf(request),
    reason: err.code,
  }
}

function pathOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '/'
  const queryAt = url.indexOf('?')
  const path = queryAt < 0 ? url : url.slice(0, queryAt)
  return path === '' ? '/' : path.slice(0, MAX_PATH)
}

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value.trim() : undefined
}

function bearer(value: string | string[] | undefined): string | undefined {
  const match = /^\s*bearer +(\S+)\s*$/i.exec(header(value) ?? '')
  return match?.[1]
}

function verified(verifier: Verifier, token: string | undefined): VerifiedToken | undefined {
  if (token === undefined) return undefined
  try {
    return verifier.verifyCached(token)
  } catch {
    return undefined
  }
}
