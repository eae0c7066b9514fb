import { createHash, randomBytes } from 'node:crypto'

/** A PKCE pair (RFC 7636 §4.1-4.2, S256). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export interface PageResponse {
  status: number
  headers: Headers
  /** The `Location` of a redirect, resolved against the request URL. */
  location: string | undefined
  html: string
}

/**
 * What a browser does for the server-rendered flow, over plain HTTP: keeps cookies (by name;
 * the server's paths are honoured by never sending a cookie after it was cleared), follows
 * nothing by itself, reads forms' CSRF tokens.
 */
export class BrowserSession {
  readonly cookies = new Map<string, string>()

  async get(url: string): Promise<PageResponse> {
    return this.#send(url, { method: 'GET' })
  }

  async post(url: string, form: Record<string, string>): Promise<PageResponse> {
    return this.#send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() })
  }

  /**
   * From an authorization URL to the client's redirect URI: signs in when the login page shows,
   * answers the consent page with `consent`, and returns the final redirect (the callback URL).
   */
  async authorize(authorizationUrl: string, options: { username: string; password: string; consent?: 'allow' | 'deny' }): Promise<URL> {
    let response = await this.get(authorizationUrl)
    for (let step = 0; step < 6; step++) {
      if (response.location === undefined) {
        const action = formAction(response.html)
        if (response.status !== 200 || action === undefined) throw new Error(`unexpected page (${response.status}): ${pageText(response.html)}`)
        const csrf_token = csrfToken(response.html)
        response = response.html.includes('name="password"')
          ? await this.post(new URL(action, authorizationUrl).href, { csrf_token, username: options.username, password: options.password })
          : await this.post(new URL(action, authorizationUrl).href, { csrf_token, decision: options.consent ?? 'allow' })
        continue
      }
      const next = new URL(response.location)
      if (next.origin !== new URL(authorizationUrl).origin || !next.pathname.includes('/interaction/')) return next
      response = await this.get(next.href)
    }
    throw new Error('the sign-in did not end at the client')
  }

  async #send(url: string, init: RequestInit): Promise<PageResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie && { cookie }) } })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const separator = pair.indexOf('=')
      const name = pair.slice(0, separator).trim()
      const value = pair.slice(separator + 1).trim()
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    const location = response.headers.get('location')
    return { status: response.status, headers: response.headers, location: location === null ? undefined : new URL(location, url).href, html: await response.text() }
  }
}

export function csrfToken(html: string): string {
  const token = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1]
  if (token === undefined) throw new Error(`no CSRF token in the page: ${pageText(html)}`)
  return token
}

export function formAction(html: string): string | undefined {
  return /<form method="post" action="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&')
}

/** The page's visible text, for assertions and failure messages. */
export function pageText(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .trim()
}
