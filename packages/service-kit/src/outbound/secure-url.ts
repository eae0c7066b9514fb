import { isIP } from 'node:net'

/**
 * `value` as a URL that bearer tokens or client secrets may be sent to: `https`, or plain `http`
 * only to a loopback host (`localhost`, 127.0.0.0/8, `[::1]`) or one named in `insecureHttpHosts`
 * (a host whose sidecar adds mutual TLS). Never with user information in it.
 *
 * @throws TypeError naming `name` when the URL is not acceptable.
 * @example
 * secureUrl('tokenEndpoint', 'https://auth.internal/oauth2/token', []) // URL
 * secureUrl('url', 'http://payments.internal/x', []) // throws TypeError
 */
export function secureUrl(name: string, value: string | URL, insecureHttpHosts: readonly string[]): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TypeError(`${name} must be an absolute URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${name} must be an http(s) URL`)
  if (url.username !== '' || url.password !== '') throw new TypeError(`${name} must not carry credentials`)
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !insecureHttpHosts.includes(url.hostname)) {
    throw new TypeError(`${name} must use https: plain http is only for loopback or a host in insecureHttpHosts`)
  }
  return url
}

/** Checks an `insecureHttpHosts` option: lower-case host names as `URL#hostname` spells them. */
export function checkInsecureHttpHosts(hosts: readonly string[] | undefined): readonly string[] {
  if (hosts === undefined) return []
  const list: unknown = hosts
  if (!Array.isArray(list) || !list.every((host: unknown) => typeof host === 'string' && host !== '' && host === host.toLowerCase())) {
    throw new TypeError('insecureHttpHosts must be a list of lower-case host names')
  }
  return [...hosts]
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || (isIP(hostname) === 4 && hostname.startsWith('127.'))
}
