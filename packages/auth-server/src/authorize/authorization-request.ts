import type { ServerContext } from '../context.js'
import { AuthorizationError } from '../errors.js'
import type { FormParams } from '../http/form-params.js'
import type { ClientRecord } from '../store/store.js'
import { isS256Challenge } from './pkce.js'
import { isRegisteredRedirectUri } from './redirect-uri.js'
import { parseScope } from '@meshguard/token'

/** OpenID Connect Core §3.1.2.1 `prompt` values this server honours. */
export type Prompt = 'none' | 'login' | 'consent'

/** An authorization request that passed every check; kept in the interaction while the user signs in. */
export interface AuthorizationRequest {
  clientId: string
  redirectUri: string
  scopes: string[]
  /** RFC 8707 `resource` values, checked again when the code is issued. */
  resources: string[]
  state?: string | undefined
  nonce?: string | undefined
  codeChallenge?: string | undefined
  prompt: Prompt[]
  /** OpenID Connect `max_age`: seconds since the user last entered a password. */
  maxAge?: number | undefined
}

/**
 * Why a request cannot even be answered at its redirect URI: the client or the URI is unknown or
 * wrong, and redirecting would make the server an open redirector (RFC 6749 §4.1.2.1). The user
 * sees an error page.
 */
export class UntrustedRedirect extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'unauthorized_client',
    readonly description: string,
  ) {
    super(description)
    this.name = 'UntrustedRedirect'
  }
}

/** A refusal to send to the client's redirect URI with `state` and `iss`. */
export interface RedirectableError {
  error: AuthorizationError
  redirectUri: string
  state: string | undefined
}

export type ParsedAuthorizationRequest =
  | { ok: true; client: ClientRecord; request: AuthorizationRequest }
  | ({ ok: false; client: ClientRecord } & RedirectableError)

const MAX_PARAMETER_LENGTH = 2048
const PROMPTS = new Set(['none', 'login', 'consent'])

/**
 * Checks an authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core §3.1.2).
 * Who the client is and where to answer are checked first; until both hold, failures throw
 * {@link UntrustedRedirect}. After that, every refusal is returned for the redirect URI.
 */
export async function parseAuthorizationRequest(ctx: ServerContext, params: FormParams): Promise<ParsedAuthorizationRequest> {
  const clientId = params.get('client_id')
  if (clientId === undefined) throw new UntrustedRedirect('invalid_request', 'the request names no client (client_id is missing)')
  const client = await ctx.directory.getClient(clientId)
  if (client === undefined) throw new UntrustedRedirect('invalid_client', 'the application that sent you here is not registered')
  if (client.type === 'service' || client.redirectUris.length === 0) {
    throw new UntrustedRedirect('unauthorized_client', 'this application cannot sign users in: it has no redirect URI')
  }
  const redirectUri = params.get('redirect_uri')
  if (redirectUri === undefined) throw new UntrustedRedirect('invalid_request', 'the request names no redirect_uri')
  if (!isRegisteredRedirectUri(client, redirectUri)) {
    throw new UntrustedRedirect('invalid_request', 'the redirect_uri is not registered for this application')
  }

  const state = params.get('state')
  const refuse = (error: AuthorizationError['error'], description: string): ParsedAuthorizationRequest => ({
    ok: false,
    client,
    error: new AuthorizationError(error, description),
    redirectUri,
    state: state !== undefined && state.length <= MAX_PARAMETER_LENGTH ? state : undefined,
  })

  if (params.has('request')) return refuse('request_not_supported', 'request objects are not supported')
  if (params.has('request_uri')) return refuse('request_uri_not_supported', 'request_uri is not supported')
  for (const name of ['state', 'nonce', 'scope', 'code_challenge', 'max_age', 'prompt']) {
    if ((params.get(name)?.length ?? 0) > MAX_PARAMETER_LENGTH) return refuse('invalid_request', `${name} is longer than ${MAX_PARAMETER_LENGTH} characters`)
  }
  const responseType = params.get('response_type')
  if (responseType === undefined) return refuse('invalid_request', 'response_type is required')
  if (responseType !== 'code') return refuse('unsupported_response_type', `response_type "${responseType}" is not supported; use "code"`)
  const responseMode = params.get('response_mode')
  if (responseMode !== undefined && responseMode !== 'query') return refuse('invalid_request', `response_mode "${responseMode}" is not supported; use "query"`)
  if (!client.grantTypes.includes('authorization_code')) return refuse('unauthorized_client', 'this client may not use the authorization code grant')

  const method = params.get('code_challenge_method')
  const codeChallenge = params.get('code_challenge')
  if (method !== undefined && method !== 'S256') return refuse('invalid_request', `code_challenge_method "${method}" is not supported; only S256 is`)
  if (codeChallenge === undefined) {
    if (method !== undefined) return refuse('invalid_request', 'code_challenge_method was sent without a code_challenge')
    if (isPublic(client)) return refuse('invalid_request', 'PKCE is required: public clients must send a code_challenge with code_challenge_method=S256')
    if (ctx.config.tier === 'high') return refuse('invalid_request', 'PKCE is required in the high tier: send a code_challenge with code_challenge_method=S256')
  } else {
    if (method === undefined) return refuse('invalid_request', 'code_challenge_method is required and must be S256 (plain is not allowed)')
    if (!isS256Challenge(codeChallenge)) {
      return refuse('invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier: 43 characters of A-Z, a-z, 0-9, "-" and "_"')
    }
  }

  const scopeParam = params.get('scope')
  if (scopeParam === undefined) return refuse('invalid_scope', 'scope is required')
  const scopes = parseScope(scopeParam)
  if (scopes === undefined || scopes.length === 0) return refuse('invalid_scope', 'scope is empty or has characters RFC 6749 §3.3 does not allow')
  const refused = scopes.filter((scope) => !client.scopes.includes(scope))
  if (refused.length > 0) return refuse('invalid_scope', `scope not allowed for this client: ${refused.join(' ')}`)

  const prompt = (params.get('prompt') ?? '').split(' ').filter((value) => value !== '')
  const unknownPrompt = prompt.find((value) => !PROMPTS.has(value))
  if (unknownPrompt !== undefined) return refuse('invalid_request', `prompt "${unknownPrompt}" is not supported`)
  if (prompt.includes('none') && prompt.length > 1) return refuse('invalid_request', 'prompt=none cannot be combined with other values')

  const maxAgeParam = params.get('max_age')
  if (maxAgeParam !== undefined && !/^\d{1,9}$/.test(maxAgeParam)) return refuse('invalid_request', 'max_age must be a non-negative integer')

  return {
    ok: true,
    client,
    request: {
      clientId: client.id,
      redirectUri,
      scopes: [...new Set(scopes)],
      resources: params.getAll('resource'),
      state,
      nonce: params.get('nonce'),
      codeChallenge,
      prompt: prompt as Prompt[],
      maxAge: maxAgeParam === undefined ? undefined : Number(maxAgeParam),
    },
  }
}

/** RFC 6749 §2.1: SPAs and native apps cannot keep a secret. */
export function isPublic(client: Pick<ClientRecord, 'type'>): boolean {
  return client.type === 'spa' || client.type === 'native'
}
