import type { JWK } from 'jose'
import { generateClientSecret, hashClientSecret, MIN_CLIENT_SECRET_LENGTH } from '../crypto/client-secret.js'
import { grants } from '../actions/grants/index.js'
import { MeshguardError } from '../errors.js'
import type { ClientRecord, ResourceServerRecord, Store } from '../store/store.js'
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
  /** A chosen secret (at least 32 characters); one is generated when neither this nor `jwks` is given. */
  secret?: string | undefined
  /** Public keys for `private_key_jwt`. */
  jwks?: readonly JWK[] | undefined
  mayAct?: string | undefined
}

export interface RegisteredClient {
  client: ClientRecord
  /** The secret in clear, shown once; undefined for `private_key_jwt` clients. */
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
  if (input.secret !== undefined && input.jwks !== undefined) problems.push('give either a secret or keys, not both')
  if (input.secret !== undefined && input.secret.length < MIN_CLIENT_SECRET_LENGTH) {
    problems.push(`secret must be at least ${MIN_CLIENT_SECRET_LENGTH} characters of high-entropy randomness`)
  }
  if (input.jwks !== undefined) {
    if (input.jwks.length === 0) problems.push('jwks must hold at least one key')
    for (const jwk of input.jwks) {
      if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) problems.push(`key ${jwk.kid ?? '(no kid)'} is not a public key`)
    }
  }
  if (input.mayAct !== undefined && !IDENTIFIER.test(input.mayAct)) problems.push(`may_act "${input.mayAct}" is not a valid client id`)
  fail(problems)

  const secret = input.jwks ? undefined : (input.secret ?? generateClientSecret())
  const client: ClientRecord = {
    id: input.id,
    secretHash: secret === undefined ? null : hashClientSecret(secret),
    jwks: input.jwks ? [...input.jwks] : null,
    grantTypes,
    scopes: [...new Set(input.scopes)],
    mayAct: input.mayAct ?? null,
    createdAt: now,
  }
  await store.createClient(client)
  return { client, secret }
}

function fail(problems: string[]): void {
  if (problems.length > 0) throw new MeshguardError('ERR_INVALID_ARGUMENT', problems.join('; '))
}
