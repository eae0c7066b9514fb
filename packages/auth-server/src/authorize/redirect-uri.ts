import type { ClientRecord } from '../store/store.js'

/** RFC 8252 §7.3: a native app's loopback redirect, whose port the app picks at run time. */
const LOOPBACK_REDIRECT = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?([/?][^#]*)?$/

/**
 * Whether `requested` is one of the client's redirect URIs, compared as strings (RFC 9700
 * §4.1.3): no normalisation, so a changed case, an explicit default port, an extra query or a
 * trailing slash is a different URI. The one exception is RFC 8252 §7.3: for a native client, a
 * loopback IP redirect matches a registered one whatever its port.
 */
export function isRegisteredRedirectUri(client: Pick<ClientRecord, 'type' | 'redirectUris'>, requested: string): boolean {
  if (client.redirectUris.includes(requested)) return true
  if (client.type !== 'native') return false
  const portless = withoutLoopbackPort(requested)
  return portless !== undefined && client.redirectUris.some((registered) => withoutLoopbackPort(registered) === portless)
}

function withoutLoopbackPort(uri: string): string | undefined {
  const match = LOOPBACK_REDIRECT.exec(uri)
  if (!match) return undefined
  const [, host, port, rest = ''] = match
  if (port !== undefined && (Number(port) === 0 || Number(port) > 65535 || port.startsWith('0'))) return undefined
  return `http://${host}${rest}`
}

/** The authorization response: the parameters appended to the redirect URI, its own query kept (RFC 6749 §3.1.2). */
export function authorizationResponseUrl(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value)
  return url.href
}
