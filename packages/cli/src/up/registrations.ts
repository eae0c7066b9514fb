import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { registerClient, registerResourceServer, type ClientInput, type ClientRecord, type ResourceServerInput, type Store } from '@meshguard/auth-server'

export interface Registrations {
  resourceServers: readonly ResourceServerInput[]
  clients: readonly ClientInput[]
}

/**
 * Makes the store hold exactly these resource servers and clients, keeping what already matches
 * so a second start reuses them. A client whose registration changed (another tier, say) or
 * whose secret was lost is registered again. Secrets are kept in `secretsFile` (mode 0600).
 *
 * @returns every confidential client's secret by client id.
 */
export async function applyRegistrations(store: Store, wanted: Registrations, secretsFile: string, now: number): Promise<Record<string, string>> {
  const secrets = new Map(Object.entries(readSecrets(secretsFile)))
  const existingResources = new Map((await store.listResourceServers()).map((resource) => [resource.id, resource]))
  for (const resource of wanted.resourceServers) {
    const existing = existingResources.get(resource.id)
    if (existing && sameSet(existing.scopes, resource.scopes)) continue
    if (existing) await store.deleteResourceServer(resource.id)
    await registerResourceServer(store, resource, now)
  }
  for (const input of wanted.clients) {
    const existing = await store.getClient(input.id)
    const needsSecret = existing?.secretHash !== null && existing?.secretHash !== undefined
    if (existing && matches(existing, input) && (!needsSecret || secrets.has(input.id))) continue
    if (existing) await store.deleteClient(input.id)
    const { secret } = await registerClient(store, input, now)
    if (secret === undefined) secrets.delete(input.id)
    else secrets.set(input.id, secret)
  }
  mkdirSync(dirname(secretsFile), { recursive: true, mode: 0o700 })
  const record = Object.fromEntries(secrets)
  writeFileSync(secretsFile, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 })
  return record
}

function matches(existing: ClientRecord, input: ClientInput): boolean {
  return (
    existing.type === (input.type ?? 'service') &&
    sameSet(existing.scopes, input.scopes) &&
    (input.grantTypes === undefined || sameSet(existing.grantTypes, input.grantTypes)) &&
    sameSet(existing.redirectUris, input.redirectUris ?? []) &&
    sameSet(existing.postLogoutRedirectUris, input.postLogoutRedirectUris ?? []) &&
    existing.tlsClientAuthSanUri === (input.tlsClientAuthSanUri ?? null) &&
    existing.mayAct === (input.mayAct ?? null) &&
    existing.tokenFormat === (input.tokenFormat ?? 'jwt') &&
    existing.phantomTokens === (input.phantomTokens ?? false)
  )
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a)
  return left.size === new Set(b).size && b.every((item) => left.has(item))
}

function readSecrets(file: string): Record<string, string> {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {}
}
