import { VerificationError } from '../errors.js'
import type { Verifier } from '../verifier/create-verifier.js'
import type { VerifiedToken } from '../verifier/verified-token.js'
import { bindingHolds, socketThumbprint, type PeerThumbprint } from './certificate-binding.js'
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

/** The credentials a call carries, each already read once (a repeated one refused by the reader). */
export interface CallCredentials {
  /** The `Authorization` value. */
  authorization: string | undefined
  /** The `X-Scope-Token` value. */
  scopeToken: string | undefined
  /** The connection's verified client certificate, for tokens bound to one (RFC 8705); absent without TLS. */
  peerThumbprint?: PeerThumbprint | undefined
}

/** A request as the HTTP adapters see it: method, raw URL, raw headers and the socket it came over. */
export interface RawRequest {
  method: string
  url: string
  rawHeaders: readonly string[]
  /** Its client certificate is what a certificate-bound token must match. */
  socket?: unknown
}

/**
 * Everything an HTTP request passes before its handler, the same for every adapter: the operation
 * from the raw path and method, then {@link authorizeOperation}. The headers are read raw, so a
 * repeated one is seen. Rejects with a {@link VerificationError}.
 */
export async function authorizeRequest(request: RawRequest, options: AuthorizeOptions): Promise<RequestAuth> {
  return authorizeRequestNow(request, options)
}

/**
 * {@link authorizeRequest} for adapters: the result at once when every token presented is in
 * the verifier's cache (no promise, no waiting), a promise when one must be verified. Throws or
 * rejects with a {@link VerificationError}.
 */
export function authorizeRequestNow(request: RawRequest, { routes, verifier }: AuthorizeOptions): RequestAuth | Promise<RequestAuth> {
  const { url } = request
  const queryAt = url.indexOf('?')
  const operation = routes.match(request.method, queryAt < 0 ? url : url.slice(0, queryAt))
  return operation.public ? publicAuth(operation) : decide(operation, readCredentials(request.rawHeaders, request.socket), verifier)
}

/**
 * The checks of one call to a known operation, whatever carried it (HTTP or gRPC): one
 * `Bearer` token verified, scopes from the `X-Scope-Token` or the caller (seed 004), and the
 * chain the operation requires.
 */
export async function authorizeOperation<Operation extends OperationPolicy>(
  operation: Operation,
  credentials: CallCredentials,
  verifier: Verifier,
): Promise<RequestAuth<Operation>> {
  return operation.public ? publicAuth(operation) : decide(operation, credentials, verifier)
}

function publicAuth<Operation extends OperationPolicy>(operation: Operation): RequestAuth<Operation> {
  return { operation, caller: undefined, callerToken: undefined, scopeToken: undefined, grantedBy: 'public' }
}

function decide<Operation extends OperationPolicy>(
  operation: Operation,
  { authorization, scopeToken: scopeHeader, peerThumbprint }: CallCredentials,
  verifier: Verifier,
): RequestAuth<Operation> | Promise<RequestAuth<Operation>> {
  if (authorization === undefined) throw new VerificationError('ERR_TOKEN_MISSING', 'no access token was presented')
  const callerToken = bearerToken(authorization)
  if (callerToken === undefined) throw new VerificationError('ERR_TOKEN_MALFORMED', 'authorization must be "Bearer <token>"')
  // Seed 004: the X-Scope-Token may come with or without the scheme.
  const presented = scopeHeader === undefined ? undefined : (bearerToken(scopeHeader) ?? scopeHeader.trim())
  const caller = verifier.verifyCached(callerToken)
  // A scope token that fails verification is ignored, and the caller's scopes decide.
  const scopeToken = presented === undefined ? undefined : cachedOrRefused(verifier, presented)
  if (caller !== undefined && scopeToken !== null) return conclude(operation, caller, callerToken, scopeToken, peerThumbprint)
  return Promise.all([
    caller ?? verifier.verify(callerToken),
    scopeToken !== null ? scopeToken : verifier.verify(presented!).catch(() => undefined),
  ]).then(([verifiedCaller, verifiedScope]) => conclude(operation, verifiedCaller, callerToken, verifiedScope, peerThumbprint))
}

/** The scope token from the cache; `undefined` if it is refused; `null` if it has to be verified. */
function cachedOrRefused(verifier: Verifier, token: string): VerifiedToken | undefined | null {
  try {
    return verifier.verifyCached(token) ?? null
  } catch {
    return undefined
  }
}

function conclude<Operation extends OperationPolicy>(
  operation: Operation,
  caller: VerifiedToken,
  callerToken: string,
  presentedScopeToken: VerifiedToken | undefined,
  peerThumbprint: PeerThumbprint | undefined,
): RequestAuth<Operation> {
  if (!bindingHolds(caller, peerThumbprint)) {
    throw new VerificationError('ERR_TOKEN_BINDING', 'the token is bound to a client certificate this connection does not present')
  }
  // A scope token bound to another certificate, or addressed to another service, is ignored like any scope token that fails.
  const scopeToken =
    presentedScopeToken !== undefined && !presentedScopeToken.forwarded && bindingHolds(presentedScopeToken, peerThumbprint) ? presentedScopeToken : undefined
  // Seed 004: a caller's token addressed upstream proves who the caller is, never what it may do here.
  if (caller.forwarded && scopeToken === undefined) {
    throw new VerificationError('ERR_TOKEN_AUDIENCE', 'the token is addressed to another service and came without an X-Scope-Token for this one')
  }
  const grantedBy = decideScopes(operation.alternatives, caller.forwarded ? NO_SCOPES : caller, scopeToken)
  if (operation.chain !== undefined && !sameChain(operation.chain, caller.chain)) {
    throw new VerificationError('ERR_CHAIN_REFUSED', `this operation accepts only calls through ${operation.chain.join(' acting for ')}`)
  }
  return { operation, caller, callerToken, scopeToken, grantedBy }
}

const NO_SCOPES: Pick<VerifiedToken, 'scopes'> = { scopes: new Set() }

const SCHEME = 'bearer'

/**
 * The token of a `Bearer <token>` credential (RFC 6750 §2.1): the scheme in any case (RFC 7235
 * §2.1), one or more spaces, then the token, surrounding whitespace ignored; `undefined` without
 * that scheme. The token's characters are left to verification, which demands stricter ones than
 * the b64token syntax, so a token found in the verified-token cache costs no character scan.
 */
function bearerToken(value: string): string | undefined {
  let start = 0
  let end = value.length
  while (start < end && isWhitespace(value.charCodeAt(start))) start += 1
  while (end > start && isWhitespace(value.charCodeAt(end - 1))) end -= 1
  if (end - start <= SCHEME.length + 1) return undefined
  for (let i = 0; i < SCHEME.length; i += 1) {
    if ((value.charCodeAt(start + i) | 0x20) !== SCHEME.charCodeAt(i)) return undefined
  }
  let at = start + SCHEME.length
  if (value.charCodeAt(at) !== 0x20) return undefined
  while (value.charCodeAt(at) === 0x20) at += 1
  return value.slice(at, end)
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09
}

/** `Authorization` and `X-Scope-Token` in one pass over the raw headers; a repeated one is refused. */
function readCredentials(rawHeaders: readonly string[], socket: unknown): CallCredentials {
  let authorization: string | undefined
  let scopeToken: string | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    // Both names have 13 characters: only those are compared, and only they are lower-cased.
    if (name.length !== 13) continue
    const lower = name.toLowerCase()
    if (lower === 'authorization') {
      if (authorization !== undefined) throw new VerificationError('ERR_REQUEST_INVALID', 'more than one authorization header')
      authorization = rawHeaders[i + 1]!
    } else if (lower === 'x-scope-token') {
      if (scopeToken !== undefined) throw new VerificationError('ERR_REQUEST_INVALID', 'more than one x-scope-token header')
      scopeToken = rawHeaders[i + 1]!
    }
  }
  return { authorization, scopeToken, peerThumbprint: socket === undefined ? undefined : socketThumbprint(socket) }
}

function sameChain(required: readonly string[], actual: readonly string[]): boolean {
  return required.length === actual.length && required.every((sub, i) => actual[i] === sub)
}
