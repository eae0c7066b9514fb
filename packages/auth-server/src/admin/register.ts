import type { JWK } from 'jose'
import { generateClientSecret, hashClientSecret, MIN_CLIENT_SECRET_LENGTH } from '../crypto/client-secret.js'
import { grants } from '../actions/grants/index.js'
import { OIDC_SCOPES } from '../authorize/oidc-scopes.js'
import { MeshguardError } from '../errors.js'
import type { ClientRecord, ClientType, ResourceServerRecord, Store } from '../store/store.js'
import { isTokenFormat, tokenFormats, type TokenFormat } from '../tokens/token-format.js'
import { parseSpiffeId } from '@meshguard/pki'
import { isScopeToken } from '@meshguard/token'
import { redirectUriProblem, type RedirectingClientType } from './redirect-uris.js'

/** Client and resource server identifiers: printable, no spaces, at most 200 characters. */
const IDENTIFIER = /^[A-Za-z0-9._~:/@+-]{1,200}$/
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const
const USER_GRANTS = ['authorization_code', 'refresh_token'] as const

/** Whether each client type can keep a credential (RFC 6749 §2.1); the record is exhaustive over {@link ClientType}. */
const CONFIDENTIAL: Readonly<Record<ClientType, boolean>> = { service: true, web: true, spa: false, native: false }

const CLIENT_TYPES = Object.keys(CONFIDENTIAL) as readonly ClientType[]

export interface ResourceServerInput {
  id: string
  scopes: readonly string[]
}

export interface ClientInput {
  id: string
  /** `service` (default): a workload acting for itself; `web`, `spa`, `native`: an application users sign in to. */
  type?: ClientType | undefined
  /** Scopes of resource servers; `web`, `spa` and `native` clients may add the OpenID Connect ones. */
  scopes: readonly string[]
  /** Default: `client_credentials` for a service, `authorization_code` and `refresh_token` otherwise. */
  grantTypes?: readonly string[] | undefined
  /** Where authorization responses may go; at least one for `web`, `spa` and `native`, none for `service`. */
  redirectUris?: readonly string[] | undefined
  /** Where the browser may be sent after logout; same rules as `redirectUris`. */
  postLogoutRedirectUris?: readonly string[] | undefined
  /** A chosen secret (at least 32 characters); one is generated for a `service` or `web` client given no other credential. */
  secret?: string | undefined
  /** Public keys for `private_key_jwt`. */
  jwks?: readonly JWK[] | undefined
  /**
   * RFC 8705 §2.1.2 `tls_client_auth_san_uri`: the SPIFFE ID of the workload; the client
   * authenticates with `tls_client_auth`, presenting a certificate that names it.
   */
  tlsClientAuthSanUri?: string | undefined
  mayAct?: string | undefined
  /** `jwt` (default): the token endpoint returns the JWT; `reference`: an opaque token that stands for it. */
  tokenFormat?: TokenFormat | undefined
  /**
   * Allows the phantom-token exchange: introspection with `Accept: application/jwt` answers an
   * active token with the JWT it stands for. For gateways, which forward the JWT upstream.
   */
  phantomTokens?: boolean | undefined
}

export interface RegisteredClient {
  client: ClientRecord
  /** The secret in clear, shown once; undefined for `private_key_jwt`, `tls_client_auth` and public clients. */
  secret: string | undefined
}

/** Registers an API and the scopes it defines. */
export async function registerResourceServer(store: Pick<Store, 'createResourceServer'>, input: ResourceServerInput, now: number): Promise<ResourceServerRecord> {
  const problems: string[] = []
  if (!IDENTIFIER.test(input.id)) problems.push(`id "${input.id}" must be 1-200 printable characters without spaces`)
  if (input.scopes.length === 0) problems.push('at least one scope is required')
  for (const scope of input.scopes) {
    if (!isScopeToken(scope)) problems.push(`scope "${scope}" has characters RFC 6749 §3.3 does not allow`)
    else if (OIDC_SCOPES.has(scope)) problems.push(`scope "${scope}" belongs to OpenID Connect and is served by the authorization server itself`)
  }
  fail(problems)
  const record = { id: input.id, scopes: [...new Set(input.scopes)], createdAt: now }
  await store.createResourceServer(record)
  return record
}

/**
 * Registers a client. Its scopes must be defined by resource servers, save the OpenID Connect
 * ones a client with a user behind it may hold.
 *
 * @throws MeshguardError `ERR_INVALID_ARGUMENT` listing every problem; `ERR_STORE_CONFLICT` when the id is taken.
 *
 * @example
 * ```ts
 * await registerClient(store, { id: 'shop', type: 'spa', scopes: ['openid', 'orders.read'], redirectUris: ['https://shop.example.com/callback'] }, now)
 * ```
 */
export async function registerClient(store: Pick<Store, 'resolveScopes' | 'createClient'>, input: ClientInput, now: number): Promise<RegisteredClient> {
  const problems: string[] = []
  if (!IDENTIFIER.test(input.id)) problems.push(`id "${input.id}" must be 1-200 printable characters without spaces`)
  // Checked at run time too: the CLI passes what the operator typed.
  const type = input.type ?? 'service'
  const knownType = Object.hasOwn(CONFIDENTIAL, type)
  if (!knownType) problems.push(`client type "${type}" is not supported (supported: ${CLIENT_TYPES.join(', ')})`)
  const grantTypes = [...new Set(input.grantTypes ?? (type === 'service' ? ['client_credentials'] : USER_GRANTS))]
  const redirectUris = [...new Set(input.redirectUris ?? [])]
  const postLogoutRedirectUris = [...new Set(input.postLogoutRedirectUris ?? [])]
  if (knownType) {
    problems.push(...grantProblems(type, grantTypes))
    problems.push(...redirectProblems(type, redirectUris, postLogoutRedirectUris))
  }
  problems.push(...(await scopeProblems(store, input.scopes, knownType ? type : undefined, grantTypes)))
  problems.push(...credentialProblems(input, knownType && !CONFIDENTIAL[type] ? type : undefined))
  if (input.mayAct !== undefined && !IDENTIFIER.test(input.mayAct)) problems.push(`may_act "${input.mayAct}" is not a valid client id`)
  const tokenFormat = input.tokenFormat ?? 'jwt'
  if (!isTokenFormat(tokenFormat)) problems.push(`token format "${String(tokenFormat)}" is not supported (supported: ${tokenFormats.join(', ')})`)
  fail(problems)

  const hasKeyCredential = input.jwks !== undefined || input.tlsClientAuthSanUri !== undefined
  const secret = !CONFIDENTIAL[type] || hasKeyCredential ? undefined : (input.secret ?? generateClientSecret())
  const client: ClientRecord = {
    id: input.id,
    type,
    redirectUris,
    postLogoutRedirectUris,
    secretHash: secret === undefined ? null : hashClientSecret(secret),
    jwks: input.jwks ? [...input.jwks] : null,
    tlsClientAuthSanUri: input.tlsClientAuthSanUri ?? null,
    grantTypes,
    scopes: [...new Set(input.scopes)],
    mayAct: input.mayAct ?? null,
    tokenFormat,
    phantomTokens: input.phantomTokens ?? false,
    createdAt: now,
  }
  await store.createClient(client)
  return { client, secret }
}

/**
 * A service acts for itself, so a grant that carries a user's consent is not for it; a public
 * client can prove nothing but PKCE, so the grants that need a credential are not for it.
 */
function grantProblems(type: ClientType, grantTypes: readonly string[]): string[] {
  const problems: string[] = []
  for (const grant of grantTypes) {
    const userGrant = isUserGrant(grant)
    if (type === 'service' && userGrant) problems.push(`grant "${grant}" is not for a service client: it acts for itself, with no user behind it`)
    else if (!CONFIDENTIAL[type] && !userGrant) problems.push(`grant "${grant}" is not for a ${type} client: it is public (RFC 6749 §2.1) and may use only authorization_code and refresh_token`)
    else if (!grants.has(grant)) problems.push(`grant "${grant}" is not supported (supported: ${[...grants.keys()].join(', ')})`)
  }
  if (type !== 'service' && !grantTypes.includes('authorization_code')) problems.push(`a ${type} client needs the authorization_code grant`)
  return problems
}

function redirectProblems(type: ClientType, redirectUris: readonly string[], postLogoutRedirectUris: readonly string[]): string[] {
  if (type === 'service') {
    return redirectUris.length + postLogoutRedirectUris.length > 0 ? ['a service client has no user to send back: it takes no redirect URIs'] : []
  }
  const problems: string[] = []
  if (redirectUris.length === 0) problems.push(`a ${type} client needs at least one redirect URI`)
  problems.push(...uriProblems('redirect URI', redirectUris, type))
  problems.push(...uriProblems('post-logout redirect URI', postLogoutRedirectUris, type))
  return problems
}

function uriProblems(label: string, uris: readonly string[], type: RedirectingClientType): string[] {
  return uris.flatMap((uri) => {
    const problem = redirectUriProblem(uri, type)
    return problem === undefined ? [] : [`${label} "${uri}" ${problem}`]
  })
}

/** @param type undefined when the type itself was refused: only the rules every client follows apply. */
async function scopeProblems(store: Pick<Store, 'resolveScopes'>, scopes: readonly string[], type: ClientType | undefined, grantTypes: readonly string[]): Promise<string[]> {
  const problems: string[] = []
  for (const scope of scopes) if (!isScopeToken(scope)) problems.push(`scope "${scope}" has characters RFC 6749 §3.3 does not allow`)
  const oidcScopes = scopes.filter((scope) => OIDC_SCOPES.has(scope))
  const apiScopes = scopes.filter((scope) => !OIDC_SCOPES.has(scope))
  const owners = await store.resolveScopes(apiScopes)
  const undefinedScopes = apiScopes.filter((scope) => !owners.has(scope))
  if (undefinedScopes.length > 0) problems.push(`scopes not defined by any resource server: ${undefinedScopes.join(' ')} (register them with "meshguard resource create")`)
  if (type === 'service' && oidcScopes.length > 0) problems.push(`a service client has no user, so no OpenID Connect scopes: ${oidcScopes.join(' ')}`)
  // OpenID Connect Core §11: offline access is granted as a refresh token.
  else if (type !== undefined && oidcScopes.includes('offline_access') && !grantTypes.includes('refresh_token')) problems.push('scope "offline_access" needs the refresh_token grant')
  return problems
}

/** @param publicType the client's type when it is public (RFC 6749 §2.1): it takes no credential at all. */
function credentialProblems(input: ClientInput, publicType: ClientType | undefined): string[] {
  const credentials = [input.secret, input.jwks, input.tlsClientAuthSanUri].filter((credential) => credential !== undefined)
  if (publicType !== undefined) {
    return credentials.length > 0 ? [`a ${publicType} client is public (RFC 6749 §2.1): it takes no secret, keys or tls_client_auth SPIFFE ID, and proves itself with PKCE instead`] : []
  }
  const problems: string[] = []
  if (credentials.length > 1) problems.push('give one of a secret, keys or a tls_client_auth SPIFFE ID, not several')
  if (input.secret !== undefined && input.secret.length < MIN_CLIENT_SECRET_LENGTH) {
    problems.push(`secret must be at least ${MIN_CLIENT_SECRET_LENGTH} characters of high-entropy randomness`)
  }
  if (input.jwks !== undefined) {
    if (input.jwks.length === 0) problems.push('jwks must hold at least one key')
    for (const jwk of input.jwks) {
      if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) problems.push(`key ${jwk.kid ?? '(no kid)'} is not a public key`)
    }
  }
  if (input.tlsClientAuthSanUri !== undefined) {
    const problem = spiffeIdProblem(input.tlsClientAuthSanUri)
    if (problem !== undefined) problems.push(`tls_client_auth_san_uri "${input.tlsClientAuthSanUri}" ${problem}`)
  }
  return problems
}

function isUserGrant(grant: string): boolean {
  return (USER_GRANTS as readonly string[]).includes(grant)
}

/** X509-SVID §2: a workload certificate names a SPIFFE ID with a path, never a bare trust domain. */
function spiffeIdProblem(value: string): string | undefined {
  const id = parseSpiffeId(value)
  if (typeof id === 'string') return `is not a SPIFFE ID: ${id}`
  if (id.path === '') return 'names a trust domain, not a workload'
  return undefined
}

function fail(problems: string[]): void {
  if (problems.length > 0) throw new MeshguardError('ERR_INVALID_ARGUMENT', problems.join('; '))
}
