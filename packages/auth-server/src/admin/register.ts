import type { JWK } from 'jose'
import { generateClientSecret, hashClientSecret, MIN_CLIENT_SECRET_LENGTH } from '../crypto/client-secret.js'
import { grants } from '../actions/grants/index.js'
import { MeshguardError } from '../errors.js'
import type { ClientRecord, ResourceServerRecord, Store } from '../store/store.js'
import { isTokenFormat, tokenFormats, type TokenFormat } from '../tokens/token-format.js'
import { parseSpiffeId } from '@meshguard/pki'
import { isScopeToken } from '@meshguard/token'

/** Client and resource server identifiers: printable, no spaces, at most 200 characters. */
const IDENTIFIER = /^[A-Za-z0-9._~:/@+-]{1,200}$/
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const

export interface ResourceServerInput {
  id: string
  scopes: readonly string[]
}

export interface ClientInput {
  id: string
  scopes: readonly string[]
  grantTypes?: readonly string[] | undefined
  /** A chosen secret (at least 32 characters); one is generated when no other credential is given. */
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
  /** The secret in clear, shown once; undefined for `private_key_jwt` and `tls_client_auth` clients. */
  secret: string | undefined
}

/** Registers an API and the scopes it defines. */
export async function registerResourceServer(store: Store, input: ResourceServerInput, now: number): Promise<ResourceServerRecord> {
  const problems: string[] = []
  if (!IDENTIFIER.test(input.id)) problems.push(`id "${input.id}" must be 1-200 printable characters without spaces`)
  if (input.scopes.length === 0) problems.push('at least one scope is required')
  for (const scope of input.scopes) if (!isScopeToken(scope)) problems.push(`scope "${scope}" has characters RFC 6749 §3.3 does not allow`)
  fail(problems)
  const record = { id: input.id, scopes: [...new Set(input.scopes)], createdAt: now }
  await store.createResourceServer(record)
  return record
}

/** Registers a client; every scope must be defined by a resource server. */
export async function registerClient(store: Store, input: ClientInput, now: number): Promise<RegisteredClient> {
  const problems: string[] = []
  if (!IDENTIFIER.test(input.id)) problems.push(`id "${input.id}" must be 1-200 printable characters without spaces`)
  const grantTypes = [...new Set(input.grantTypes ?? ['client_credentials'])]
  for (const grant of grantTypes) if (!grants.has(grant)) problems.push(`grant "${grant}" is not supported (supported: ${[...grants.keys()].join(', ')})`)
  for (const scope of input.scopes) if (!isScopeToken(scope)) problems.push(`scope "${scope}" has characters RFC 6749 §3.3 does not allow`)
  const owners = await store.resolveScopes(input.scopes)
  const undefinedScopes = input.scopes.filter((scope) => !owners.has(scope))
  if (undefinedScopes.length > 0) problems.push(`scopes not defined by any resource server: ${undefinedScopes.join(' ')} (register them with "meshguard resource create")`)
  const credentials = [input.secret, input.jwks, input.tlsClientAuthSanUri].filter((credential) => credential !== undefined)
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
  if (input.mayAct !== undefined && !IDENTIFIER.test(input.mayAct)) problems.push(`may_act "${input.mayAct}" is not a valid client id`)
  // Checked at run time too: the CLI passes what the operator typed.
  const tokenFormat = input.tokenFormat ?? 'jwt'
  if (!isTokenFormat(tokenFormat)) problems.push(`token format "${String(tokenFormat)}" is not supported (supported: ${tokenFormats.join(', ')})`)
  fail(problems)

  const secret = input.jwks || input.tlsClientAuthSanUri !== undefined ? undefined : (input.secret ?? generateClientSecret())
  const client: ClientRecord = {
    id: input.id,
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
