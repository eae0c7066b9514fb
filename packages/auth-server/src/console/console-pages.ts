import escapeHtml from 'escape-html'
import { revocationReasons } from '@meshguard/pki'
import { signInForm } from '../authorize/pages.js'
import { issuerPath, type ServerContext } from '../context.js'
import { consoleAssets } from './console-assets.js'

/** The console's pages: its sign-in form, the application shell, and what a refused visitor sees. */
export type ConsolePage =
  | { view: 'login'; csrfToken: string; username?: string | undefined; error?: string | undefined }
  | { view: 'shell'; csrfToken: string; username: string }
  | { view: 'refused'; title: string; message: string; signOutCsrfToken?: string | undefined }

/**
 * The console's CSP: its own script and stylesheet and nothing inline, requests to this origin
 * only, forms posted here only, never framed.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/** Headers of every console page. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  pragma: 'no-cache',
}

/** Where the console lives: `<issuer path>/console`. */
export function consoleBase(ctx: Pick<ServerContext, 'issuer'>): string {
  return `${issuerPath(ctx.issuer)}/console`
}

export function renderConsolePage(ctx: Pick<ServerContext, 'issuer'>, page: ConsolePage): string {
  const base = consoleBase(ctx)
  switch (page.view) {
    case 'login':
      return layout(base, 'Sign in to the console', loginForm(base, page))
    case 'refused':
      return layout(base, page.title, refusal(base, page))
    case 'shell':
      return layout(base, 'Console', shell(base, page), page.csrfToken)
  }
}

function loginForm(base: string, page: Extract<ConsolePage, { view: 'login' }>): string {
  return `<main class="narrow">
<h1>Meshguard console</h1>
<p>Sign in with an administrator's account.</p>
${signInForm(`${base}/login`, page)}
</main>`
}

function refusal(base: string, page: Extract<ConsolePage, { view: 'refused' }>): string {
  const signOut =
    page.signOutCsrfToken === undefined
      ? `<p><a href="${escapeHtml(`${base}/login`)}">Sign in</a></p>`
      : `<form method="post" action="${escapeHtml(`${base}/logout`)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(page.signOutCsrfToken)}">
<button type="submit">Sign out</button>
</form>`
  return `<main class="narrow">
<h1>${escapeHtml(page.title)}</h1>
<p role="alert">${escapeHtml(page.message)}</p>
${signOut}
</main>`
}

const SECTIONS = [
  ['map', 'Live map'],
  ['audit', 'Audit log'],
  ['inspector', 'Token inspector'],
  ['clients', 'Clients'],
  ['resources', 'Resource servers'],
  ['keys', 'Signing keys'],
  ['certificates', 'Certificates'],
  ['users', 'Users'],
] as const

function shell(base: string, page: Extract<ConsolePage, { view: 'shell' }>): string {
  const nav = SECTIONS.map(([id, label]) => `<li><a href="#${id}">${label}</a></li>`).join('')
  const reasons = revocationReasons.map((reason) => `<option>${escapeHtml(reason)}</option>`).join('')
  return `<header>
<p class="brand">Meshguard console</p>
<nav aria-label="Console sections"><ul>${nav}</ul></nav>
<form method="post" action="${escapeHtml(`${base}/logout`)}" class="signed-in">
<span>Signed in as <strong>${escapeHtml(page.username)}</strong></span>
<input type="hidden" name="csrf_token" value="${escapeHtml(page.csrfToken)}">
<button type="submit" class="secondary">Sign out</button>
</form>
</header>
<main id="console">
<section id="map" aria-labelledby="map-heading" hidden>
<h1 id="map-heading" tabindex="-1">Live map</h1>
<p>Services and the calls between them, as the services report them (the last 24 hours). An arrow is green when its latest call was allowed and red when it was refused; hover or focus it for the counts and the last reason. A dashed circle is a registered resource server, a blue one a service that reports calls, a grey one a caller only.</p>
<p class="status" id="map-status" role="status"></p>
<p class="error" id="map-error" role="alert" hidden></p>
<div class="map-frame"><svg id="map-svg" role="group" aria-labelledby="map-heading" viewBox="0 0 800 560"></svg></div>
<h2>Calls</h2>
<table id="map-table"><thead><tr><th scope="col">Caller</th><th scope="col">Service</th><th scope="col">Allowed</th><th scope="col">Refused</th><th scope="col">Latest</th><th scope="col">Last reason</th></tr></thead><tbody></tbody></table>
</section>

<section id="audit" aria-labelledby="audit-heading" hidden>
<h1 id="audit-heading" tabindex="-1">Audit log</h1>
<form id="audit-filter" class="filters">
<div class="field"><label for="audit-service">Service</label><input id="audit-service" name="service" autocomplete="off"></div>
<div class="field"><label for="audit-client">Client</label><input id="audit-client" name="client" autocomplete="off"></div>
<div class="field"><label for="audit-decision">Decision</label><select id="audit-decision" name="decision"><option value="">any</option><option value="allow">allow</option><option value="deny">deny</option></select></div>
<div class="field"><label for="audit-reason">Reason contains</label><input id="audit-reason" name="reason" autocomplete="off"></div>
<div class="field"><label for="audit-since">From</label><input id="audit-since" name="since" type="datetime-local" step="1"></div>
<div class="field"><label for="audit-until">To</label><input id="audit-until" name="until" type="datetime-local" step="1"></div>
<button type="submit">Search</button>
</form>
<p class="error" id="audit-error" role="alert" hidden></p>
<table id="audit-table"><thead><tr><th scope="col">Time</th><th scope="col">Type</th><th scope="col">Decision</th><th scope="col">Client</th><th scope="col">Subject</th><th scope="col">Reason</th><th scope="col">Details</th></tr></thead><tbody></tbody></table>
</section>

<section id="inspector" aria-labelledby="inspector-heading" hidden>
<h1 id="inspector-heading" tabindex="-1">Token inspector</h1>
<form id="inspect-form">
<label for="inspect-token">Token</label>
<textarea id="inspect-token" name="token" rows="5" spellcheck="false" autocomplete="off" required></textarea>
<button type="submit">Inspect</button>
</form>
<p class="error" id="inspect-error" role="alert" hidden></p>
<div id="inspect-result" aria-live="polite"></div>
</section>

<section id="clients" aria-labelledby="clients-heading" hidden>
<h1 id="clients-heading" tabindex="-1">Clients</h1>
<table id="clients-table"><thead><tr><th scope="col">Client</th><th scope="col">Type</th><th scope="col">Authentication</th><th scope="col">Grants</th><th scope="col">Scopes</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody></tbody></table>
<h2>Register a client</h2>
<form id="client-form" class="grid">
<div class="field"><label for="client-id">Client id</label><input id="client-id" name="id" required autocomplete="off"></div>
<div class="field"><label for="client-type">Type</label><select id="client-type" name="type"><option>service</option><option>web</option><option>spa</option><option>native</option></select></div>
<div class="field"><label for="client-scopes">Scopes (space-separated)</label><input id="client-scopes" name="scopes" autocomplete="off"></div>
<div class="field"><label for="client-grantTypes">Grant types (space-separated, optional)</label><input id="client-grantTypes" name="grantTypes" autocomplete="off"></div>
<div class="field"><label for="client-redirectUris">Redirect URIs (one per line)</label><textarea id="client-redirectUris" name="redirectUris" rows="2"></textarea></div>
<div class="field"><label for="client-postLogoutRedirectUris">Post-logout redirect URIs (one per line)</label><textarea id="client-postLogoutRedirectUris" name="postLogoutRedirectUris" rows="2"></textarea></div>
<div class="field"><label for="client-mayAct">May act (client id, optional)</label><input id="client-mayAct" name="mayAct" autocomplete="off"></div>
<div class="field"><label for="client-tokenFormat">Token format</label><select id="client-tokenFormat" name="tokenFormat"><option>jwt</option><option>reference</option></select></div>
<div class="field check"><input id="client-phantomTokens" name="phantomTokens" type="checkbox"><label for="client-phantomTokens">Phantom tokens (gateways)</label></div>
<button type="submit">Register</button>
</form>
<p class="error" id="clients-error" role="alert" hidden></p>
<p class="notice" id="clients-notice" role="status" hidden></p>
</section>

<section id="resources" aria-labelledby="resources-heading" hidden>
<h1 id="resources-heading" tabindex="-1">Resource servers</h1>
<table id="resources-table"><thead><tr><th scope="col">Audience</th><th scope="col">Scopes</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody></tbody></table>
<h2>Register a resource server</h2>
<form id="resource-form" class="grid">
<div class="field"><label for="resource-id">Audience identifier</label><input id="resource-id" name="id" required autocomplete="off"></div>
<div class="field"><label for="resource-scopes">Scopes (space-separated)</label><input id="resource-scopes" name="scopes" required autocomplete="off"></div>
<button type="submit">Register</button>
</form>
<p class="error" id="resources-error" role="alert" hidden></p>
</section>

<section id="keys" aria-labelledby="keys-heading" hidden>
<h1 id="keys-heading" tabindex="-1">Signing keys</h1>
<table id="keys-table"><thead><tr><th scope="col">Key id</th><th scope="col">Algorithm</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Activated</th><th scope="col">Leaves the JWKS</th></tr></thead><tbody></tbody></table>
<form id="rotate-form">
<div class="field check"><input id="rotate-emergency" name="emergency" type="checkbox"><label for="rotate-emergency">Emergency: drop the active key at once (every token it signed stops verifying)</label></div>
<button type="submit">Rotate</button>
</form>
<p class="error" id="keys-error" role="alert" hidden></p>
<p class="notice" id="keys-notice" role="status" hidden></p>
</section>

<section id="certificates" aria-labelledby="certificates-heading" hidden>
<h1 id="certificates-heading" tabindex="-1">Certificates</h1>
<div class="field"><label for="revocation-reason">Revocation reason</label><select id="revocation-reason">${reasons}</select></div>
<table id="certificates-table"><thead><tr><th scope="col">Serial number</th><th scope="col">SPIFFE ID</th><th scope="col">Issued as</th><th scope="col">Valid until</th><th scope="col">Revoked</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody></tbody></table>
<p class="error" id="certificates-error" role="alert" hidden></p>
</section>

<section id="users" aria-labelledby="users-heading" hidden>
<h1 id="users-heading" tabindex="-1">Users</h1>
<table id="users-table"><thead><tr><th scope="col">Username</th><th scope="col">Subject</th><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">Administrator</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody></tbody></table>
<h2>Create a user</h2>
<form id="user-form" class="grid">
<div class="field"><label for="user-username">Username</label><input id="user-username" name="username" required autocomplete="off"></div>
<div class="field"><label for="user-password">Password</label><input id="user-password" name="password" type="password" required autocomplete="new-password"></div>
<div class="field"><label for="user-name">Name</label><input id="user-name" name="name" autocomplete="off"></div>
<div class="field"><label for="user-email">E-mail</label><input id="user-email" name="email" type="email" autocomplete="off"></div>
<div class="field check"><input id="user-admin" name="admin" type="checkbox"><label for="user-admin">Administrator</label></div>
<button type="submit">Create</button>
</form>
<p class="error" id="users-error" role="alert" hidden></p>
</section>
</main>`
}

function layout(base: string, title: string, content: string, csrfToken?: string): string {
  const script = csrfToken === undefined ? '' : `\n<meta name="mg-csrf-token" content="${escapeHtml(csrfToken)}">\n<meta name="mg-console-base" content="${escapeHtml(base)}">\n<script type="module" src="${escapeHtml(`${base}/assets/${consoleAssets().script.name}`)}"></script>`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)} · Meshguard</title>
<link rel="stylesheet" href="${escapeHtml(`${base}/assets/${consoleAssets().style.name}`)}">${script}
</head>
<body>
${content}
</body>
</html>
`
}
