import { parseSpiffeId, type SpiffeId } from '@meshguard/pki'

/**
 * The peers a service, route or client accepts: exact SPIFFE IDs, or a predicate over the parsed
 * ID (e.g. `(id) => id.path.startsWith('/ns/shop/')`).
 */
export type SpiffeIdAllowList = readonly string[] | ((id: SpiffeId) => boolean)

/**
 * `allow` as one test. Exact IDs are parsed now, so a typo fails at start rather than refusing
 * every peer later.
 *
 * @throws TypeError naming `name` when the list is empty or holds something that is not a SPIFFE ID.
 */
export function compileAllowList(allow: SpiffeIdAllowList, name: string): (id: SpiffeId) => boolean {
  if (typeof allow === 'function') return allow
  if (!Array.isArray(allow) || allow.length === 0) throw new TypeError(`${name} must be a non-empty list of SPIFFE IDs or a function`)
  const ids = new Set<string>()
  for (const value of allow as readonly unknown[]) {
    const id = typeof value === 'string' ? parseSpiffeId(value) : 'not a string'
    if (typeof id === 'string') throw new TypeError(`${name}: ${JSON.stringify(value)} is not a SPIFFE ID: ${id}`)
    ids.add(id.uri)
  }
  return (id) => ids.has(id.uri)
}
