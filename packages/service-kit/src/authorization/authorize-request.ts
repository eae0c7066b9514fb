import { VerificationError } from '../errors.js'
import type { Verifier } from '../verifier/create-verifier.js'
import type { VerifiedToken } from '../verifier/verified-token.js'
import { decideScopes } from './decide-scopes.js'
import type { OpenApiRoutes, RouteDecision } from './openapi-routes.js'

/** What a handler learns about an authorised request. */
export interface RequestAuth {
  operation: RouteDecision
  /** The caller's token: identity, custom claims, chain. Undefined on public routes. */
  caller: VerifiedToken | undefined
  /** The caller's token as presented, to forward or exchange on an outbound call. */
  callerToken: string | undefined
  /** The verified `X-Scope-Token`, when one was sent and valid. */
  scopeToken: VerifiedToken | undefined
  grantedBy: 'scope-token' | 'caller' | 'public'
}

export interface AuthorizeOptions {
  routes: OpenApiRoutes
  verifier: Verifier
}

const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i

/**
 * Everything a request passes before its handler, the same for every adapter: the operation from
 * the raw path and method, one `Authorization: Bearer` token verified (raw headers, so a repeated
 * one is seen), the `X-Scope-Token` rule for
 * scopes, and the operation's chain policy. Rejects with a {@link VerificationError}.
 */
export async function authorizeRequest(
  request: { method: string; url: string; rawHeaders: readonly string[] },
  { routes, verifier }: AuthorizeOptions,
): Promise<RequestAuth> {
  const queryAt = request.url.indexOf('?')
  const operation = routes.match(request.method, queryAt < 0 ? request.url : request.url.slice(0, queryAt))
  if (operation.public) return { operation, caller: undefined, callerToken: undefined, scopeToken: undefined, grantedBy: 'public' }

  const authorization = single(request.rawHeaders, 'authorization')
  if (authorization === undefined) throw new VerificationError('ERR_TOKEN_MISSING', 'no access token was presented')
  const callerToken = BEARER.exec(authorization.trim())?.[1]
  if (callerToken === undefined) throw new VerificationError('ERR_TOKEN_MALFORMED', 'authorization must be "Bearer <token>"')
  const caller = await verifier.verify(callerToken)
  const scopeHeader = single(request.rawHeaders, 'x-scope-token')?.trim()
  const presented = scopeHeader === undefined ? undefined : (BEARER.exec(scopeHeader)?.[1] ?? scopeHeader)
  // Seed 004: a scope token that fails verification is ignored, and the caller's scopes decide.
  const scopeToken = presented === undefined ? undefined : await verifier.verify(presented).catch(() => undefined)
  const { grantedBy } = decideScopes(operation.alternatives, caller, scopeToken)
  if (operation.chain !== undefined && !sameChain(operation.chain, caller.chain)) {
    throw new VerificationError('ERR_CHAIN_REFUSED', `this operation accepts only calls through ${operation.chain.join(' acting for ')}`)
  }
  return { operation, caller, callerToken, scopeToken, grantedBy }
}

/** A header's one value; a repeated header is refused rather than guessed at. */
function single(rawHeaders: readonly string[], name: string): string | undefined {
  let value: string | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== name) continue
    if (value !== undefined) throw new VerificationError('ERR_REQUEST_INVALID', `more than one ${name} header`)
    value = rawHeaders[i + 1]!
  }
  return value
}

function sameChain(required: readonly string[], actual: readonly string[]): boolean {
  return required.length === actual.length && required.every((sub, i) => actual[i] === sub)
}
