import { VerificationError } from '../errors.js'
import type { Verifier } from '../verifier/create-verifier.js'
import type { VerifiedToken } from '../verifier/verified-token.js'
import { decideScopes } from './decide-scopes.js'
import type { OpenApiRoutes, RouteDecision } from './openapi-routes.js'

/** What every protocol's operation tells authorization: who may call it and with which scopes. */
export interface OperationPolicy {
  /** Explicitly public: no token is read. */
  public: boolean
  /** Any one of these scope sets suffices; `[[]]` means any valid token. */
  alternatives: readonly (readonly string[])[]
  /** The delegation chain the caller's token must carry exactly, most recent actor first. */
  chain: readonly string[] | undefined
}

/** What a handler learns about an authorised request. */
export interface RequestAuth<Operation extends OperationPolicy = RouteDecision> {
  operation: Operation
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

/** The two credentials a call carries, each read once; a repeated one is refused by the reader. */
export type CredentialReader = (name: 'authorization' | 'x-scope-token') => string | undefined

const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i

/**
 * Everything an HTTP request passes before its handler, the same for every adapter: the operation
 * from the raw path and method, then {@link authorizeOperation}. The headers are read raw, so a
 * repeated one is seen. Rejects with a {@link VerificationError}.
 */
export async function authorizeRequest(
  request: { method: string; url: string; rawHeaders: readonly string[] },
  { routes, verifier }: AuthorizeOptions,
): Promise<RequestAuth> {
  const queryAt = request.url.indexOf('?')
  const operation = routes.match(request.method, queryAt < 0 ? request.url : request.url.slice(0, queryAt))
  return authorizeOperation(operation, (name) => single(request.rawHeaders, name), verifier)
}

/**
 * The checks of one call to a known operation, whatever carried it (HTTP or gRPC): one
 * `Bearer` token verified, scopes from the `X-Scope-Token` or the caller (seed 004), and the
 * chain the operation requires.
 */
export async function authorizeOperation<Operation extends OperationPolicy>(
  operation: Operation,
  read: CredentialReader,
  verifier: Verifier,
): Promise<RequestAuth<Operation>> {
  if (operation.public) return { operation, caller: undefined, callerToken: undefined, scopeToken: undefined, grantedBy: 'public' }

  const authorization = read('authorization')
  if (authorization === undefined) throw new VerificationError('ERR_TOKEN_MISSING', 'no access token was presented')
  const callerToken = BEARER.exec(authorization.trim())?.[1]
  if (callerToken === undefined) throw new VerificationError('ERR_TOKEN_MALFORMED', 'authorization must be "Bearer <token>"')
  const caller = await verifier.verify(callerToken)
  const scopeHeader = read('x-scope-token')?.trim()
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
