import { isLoopbackHost } from '../config/schema.js'
import type { ClientType } from '../store/store.js'

/** The client types that send a user's browser back somewhere, and so register redirect URIs. */
export type RedirectingClientType = Exclude<ClientType, 'service'>

export const MAX_REDIRECT_URI_LENGTH = 2000

/** RFC 8252 §7.1: a private-use scheme is a domain name the app's publisher controls, reversed. */
const REVERSE_DOMAIN_SCHEME = /^[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+$/

/** What a URL parser strips or drops before resolving, so the string compared is not the one followed. */
const WHITESPACE_OR_CONTROL = /[\s\p{Cc}]/u

/**
 * Why `uri` may not be registered as a redirect URI (or post-logout redirect URI) of a client of
 * this type; undefined when it may. The URI is stored as given and compared as a string at
 * `/authorize` (RFC 9700 §4.1.3), so what a URL parser would silently drop (whitespace, control
 * characters, an empty userinfo) is refused rather than registered.
 *
 * @example
 * redirectUriProblem('https://app.example.com/callback', 'spa') // undefined
 * redirectUriProblem('https://*.example.com/callback', 'web') // 'must not contain a wildcard "*" (RFC 9700 §4.1.3)'
 */
export function redirectUriProblem(uri: string, type: RedirectingClientType): string | undefined {
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return `is longer than ${MAX_REDIRECT_URI_LENGTH} characters`
  if (WHITESPACE_OR_CONTROL.test(uri)) return 'must not contain whitespace or control characters'
  if (uri.includes('#')) return 'must not have a fragment (RFC 6749 §3.1.2)'
  if (uri.includes('*')) return 'must not contain a wildcard "*" (RFC 9700 §4.1.3)'
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return 'is not an absolute URL'
  }
  if (hasUserinfo(uri, url)) return 'must not have user information (user@host)'
  return type === 'native' ? nativeSchemeProblem(uri, url) : browserSchemeProblem(url)
}

/** Web and browser-based clients: TLS, except for a developer's loopback (RFC 6749 §3.1.2.1). */
function browserSchemeProblem(url: URL): string | undefined {
  if (url.protocol === 'https:') return undefined
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined
  return 'must use https unless the host is loopback (localhost, 127.0.0.0/8, [::1])'
}

/** RFC 8252 §7: the three ways back into a native app. */
function nativeSchemeProblem(uri: string, url: URL): string | undefined {
  // §7.2: a claimed https URL.
  if (url.protocol === 'https:') return undefined
  // §7.3, §8.3: the loopback IP literal, never `localhost`, which a resolver might send elsewhere; any port.
  if (url.protocol === 'http:') {
    const host = writtenAuthority(uri).replace(/:\d*$/, '')
    return host === '127.0.0.1' || host === '[::1]' ? undefined : 'may use http only with the loopback IP literal 127.0.0.1 or [::1] (RFC 8252 §7.3, §8.3)'
  }
  // §7.1, §8.4: a private-use scheme; only a reversed domain name keeps it to one publisher.
  if (REVERSE_DOMAIN_SCHEME.test(url.protocol.slice(0, -1))) return undefined
  return 'must use https, http on 127.0.0.1 or [::1], or a private-use scheme in reverse-domain form such as com.example.app (RFC 8252 §7)'
}

/**
 * `https://trusted.example@evil.example/` reads as one host and goes to another. The parser drops
 * an empty userinfo (`https://@host`), so the authority as written is checked too.
 */
function hasUserinfo(uri: string, url: URL): boolean {
  if (url.username !== '' || url.password !== '') return true
  return url.host !== '' && writtenAuthority(uri).includes('@')
}

/** The authority as written, before the parser lowered, decoded or dropped any of it; '' for none. */
function writtenAuthority(uri: string): string {
  return /^[^:]+:[/\\]*([^/\\?]*)/.exec(uri)?.[1] ?? ''
}
