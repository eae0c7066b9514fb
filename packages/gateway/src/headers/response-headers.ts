import type { IncomingHttpHeaders } from 'node:http'
import { hopByHopHeaders } from './header-lists.js'

const DROPPED = new Set<string>([...hopByHopHeaders, 'x-request-id'])

/**
 * The upstream's response headers to send the client, as a flat list: hop-by-hop ones
 * (RFC 9110 §7.6.1) and those the upstream's `Connection` names removed, `X-Request-Id` left to
 * the gateway, and `Access-Control-*` removed when the gateway answers CORS for the route.
 */
export function upstreamResponseHeaders(headers: IncomingHttpHeaders, dropCors: boolean): string[] {
  const out: string[] = []
  const named = headers.connection === undefined ? undefined : connectionOptions(headers.connection)
  for (const name in headers) {
    if (DROPPED.has(name) || named?.has(name) === true) continue
    if (dropCors && name.startsWith('access-control-')) continue
    const value = headers[name]
    if (value === undefined) continue
    if (typeof value === 'string') out.push(name, value)
    else for (const item of value) out.push(name, item)
  }
  return out
}

function connectionOptions(value: string | string[]): Set<string> {
  const named = new Set<string>()
  for (const token of (typeof value === 'string' ? value : value.join(',')).split(',')) named.add(token.trim().toLowerCase())
  return named
}
