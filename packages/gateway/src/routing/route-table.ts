import type { CompiledRoute } from './compiled-route.js'

/**
 * Routes by host, then by the longest path prefix: routes for the request's host are tried
 * first, then those for any host. A prefix matches whole segments (`/api` matches `/api`,
 * `/api/x`, not `/apix`).
 */
export class RouteTable {
  readonly #byHost = new Map<string, CompiledRoute[]>()
  readonly #anyHost: CompiledRoute[] = []

  constructor(routes: readonly CompiledRoute[]) {
    for (const route of routes) {
      if (route.host === undefined) this.#anyHost.push(route)
      else {
        let list = this.#byHost.get(route.host)
        if (list === undefined) this.#byHost.set(route.host, (list = []))
        list.push(route)
      }
    }
    const longestFirst = (a: CompiledRoute, b: CompiledRoute) => b.pathPrefix.length - a.pathPrefix.length
    this.#anyHost.sort(longestFirst)
    for (const list of this.#byHost.values()) list.sort(longestFirst)
  }

  /** Whether any route names a host, so the request's host has to be read. */
  get matchesHosts(): boolean {
    return this.#byHost.size > 0
  }

  /** The route for a host name (lower case, no port) and a path (no query). */
  match(host: string | undefined, path: string): CompiledRoute | undefined {
    if (host !== undefined) {
      const forHost = this.#byHost.get(host)
      if (forHost !== undefined) {
        const route = longestPrefix(forHost, path)
        if (route !== undefined) return route
      }
    }
    return longestPrefix(this.#anyHost, path)
  }
}

function longestPrefix(routes: readonly CompiledRoute[], path: string): CompiledRoute | undefined {
  for (const route of routes) {
    const prefix = route.pathPrefix
    if (prefix.length === 1) return route
    if (path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f)) return route
  }
  return undefined
}
