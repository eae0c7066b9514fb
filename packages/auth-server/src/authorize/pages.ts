import { createHash } from 'node:crypto'
import escapeHtml from 'escape-html'

/** The server-rendered pages of sign-in, consent and logout. No script runs on any of them. */
export type Page =
  | { view: 'login'; clientId: string; action: string; csrfToken: string; redirectUri: string; username?: string | undefined; error?: string | undefined }
  | { view: 'consent'; clientId: string; action: string; csrfToken: string; redirectUri: string; username: string; scopes: readonly string[] }
  | { view: 'logout'; action: string; csrfToken: string; fields: Readonly<Record<string, string>> }
  | { view: 'signed-out' }
  | { view: 'error'; title: string; message: string }

export interface RenderedPage {
  html: string
  /** The page's response headers: a CSP allowing its one stylesheet and its forms' targets, no framing. */
  headers: Record<string, string>
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1f24}
main{max-width:26rem;margin:10vh auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin:0 0 1rem}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.6rem;font:inherit;border:1px solid #767676;border-radius:4px}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;border:0;border-radius:4px;background:#0b57d0;color:#fff;cursor:pointer}
button.secondary{background:#e3e5e8;color:#1b1f24;margin-left:.5rem}
:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}
.error{padding:.75rem;background:#fce8e6;color:#a50e0e;border-radius:4px}
ul{padding-left:1.2rem}code{font-size:.95em}
`
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`

/** What each OpenID Connect scope means to the person asked (Core §5.4, §11). */
const SCOPE_WORDING: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your name and username',
  email: 'See your email address',
  offline_access: 'Keep access while you are away (until you sign out of it or it expires)',
}

export function renderPage(page: Page): RenderedPage {
  const formTargets = new Set(["'self'"])
  if (page.view === 'login' || page.view === 'consent') formTargets.add(redirectSource(page.redirectUri))
  return {
    html: layout(title(page), body(page)),
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; style-src ${STYLE_HASH}; form-action ${[...formTargets].join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      pragma: 'no-cache',
    },
  }
}

function title(page: Page): string {
  switch (page.view) {
    case 'login':
      return 'Sign in'
    case 'consent':
      return 'Allow access'
    case 'logout':
      return 'Sign out'
    case 'signed-out':
      return 'Signed out'
    case 'error':
      return page.title
  }
}

function body(page: Page): string {
  switch (page.view) {
    case 'login':
      return `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(page.clientId)}</strong></p>
${signInForm(page.action, page)}`
    case 'consent':
      return `<h1>Allow access</h1>
<p><strong>${escapeHtml(page.clientId)}</strong> asks to act for <strong>${escapeHtml(page.username)}</strong>:</p>
<ul>${page.scopes.map((scope) => `<li>${escapeHtml(SCOPE_WORDING[scope] ?? 'Use the API permission')}${SCOPE_WORDING[scope] ? '' : ` <code>${escapeHtml(scope)}</code>`}</li>`).join('')}</ul>
<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(page.csrfToken)}">
<button type="submit" name="decision" value="allow" autofocus>Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`
    case 'logout':
      return `<h1>Sign out</h1>
<p>Do you want to sign out?</p>
<form method="post" action="${escapeHtml(page.action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(page.csrfToken)}">
${Object.entries(page.fields)
  .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
  .join('\n')}
<button type="submit" name="decision" value="logout" autofocus>Sign out</button>
</form>`
    case 'signed-out':
      return '<h1>Signed out</h1>\n<p>You are signed out. You can close this window.</p>'
    case 'error':
      return `<h1>${escapeHtml(page.title)}</h1>\n<p role="alert">${escapeHtml(page.message)}</p>`
  }
}

/**
 * The password form, with the refusal of the last attempt above it: labelled fields, focus on
 * the username (or the password when the username is kept), the form's CSRF token. The
 * authorization server's sign-in page and the console's both use it.
 */
export function signInForm(action: string, page: { csrfToken: string; username?: string | undefined; error?: string | undefined }): string {
  const error = page.error === undefined ? '' : `<p id="login-error" class="error" role="alert">${escapeHtml(page.error)}</p>`
  const described = page.error === undefined ? '' : ' aria-describedby="login-error"'
  const focusPassword = page.username !== undefined && page.username !== ''
  return `${error}
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(page.csrfToken)}">
<label for="username">Username</label>
<input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required${described} value="${escapeHtml(page.username ?? '')}"${focusPassword ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${described}${focusPassword ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>`
}

function layout(pageTitle: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(pageTitle)} · Meshguard</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${content}
</main>
</body>
</html>
`
}

/**
 * The CSP source a form's redirect chain may end at: Chromium applies `form-action` to every
 * redirect after a submission, and a sign-in ends at the client's redirect URI.
 */
function redirectSource(redirectUri: string): string {
  const url = new URL(redirectUri)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol
}
