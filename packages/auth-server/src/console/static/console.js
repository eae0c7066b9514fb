// The Meshguard console: a plain browser module, no framework, served under a CSP that allows
// this file alone. Everything shown is built with DOM calls and text nodes, never HTML strings.
/* global document, window, fetch, EventSource, URLSearchParams, FormData, Node, CSS, confirm */

const csrfToken = meta('mg-csrf-token')
const base = meta('mg-console-base')
const api = `${base}/api`
const SVG_NS = 'http://www.w3.org/2000/svg'
/** The caller of a call made without a valid token, as the server names it too. */
const ANONYMOUS = '(no token)'

function meta(name) {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? ''
}

function $(selector) {
  return document.querySelector(selector)
}

function build(node, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue
    if (typeof value === 'function') node.addEventListener(name.replace(/^on/, ''), value)
    else node.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue
    node.append(child instanceof Node ? child : String(child))
  }
  return node
}

/** An HTML element. */
function h(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children)
}

/** An SVG element. */
function s(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children)
}

/** A call of the console API; a refusal becomes an Error carrying the server's message. */
async function call(method, path, body) {
  const headers = { accept: 'application/json' }
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken
  const init = { method, headers, credentials: 'same-origin' }
  if (body !== undefined) {
    headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const response = await fetch(`${api}${path}`, init)
  if (response.status === 401) {
    window.location.assign(`${base}/login`)
    throw new Error('You are signed out.')
  }
  const data = await response.json().catch(() => ({}))
  if (!response.ok) throw new Error(data.message ?? `The server answered ${response.status}.`)
  return data
}

function showMessage(id, message) {
  const node = $(`#${id}`)
  if (!node) return
  node.textContent = message ?? ''
  node.hidden = !message
}

/** Runs an action of a section, showing its error (or clearing the last one). */
async function attempt(section, action) {
  showMessage(`${section}-error`)
  try {
    await action()
  } catch (err) {
    showMessage(`${section}-error`, err instanceof Error ? err.message : String(err))
  }
}

function words(value) {
  return value.split(/\s+/).filter(Boolean)
}

function lines(value) {
  return value.split(/\r?\n/).map((line) => line.trim()).filter(Boolean)
}

function optional(value) {
  return value === '' ? undefined : value
}

function when(seconds) {
  return seconds === null || seconds === undefined ? '–' : new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

function fill(tableId, rows) {
  $(`#${tableId} tbody`).replaceChildren(...rows)
}

function deleteButton(label, action) {
  return h('button', { type: 'button', class: 'danger', 'aria-label': label, onclick: action }, 'Delete')
}

// ---------------------------------------------------------------- the live map

const map = { nodes: new Map(), edges: new Map(), loading: null, queued: [], live: false }

function edgeKey(from, to) {
  return JSON.stringify([from, to])
}

async function loadMap() {
  map.queued = []
  map.loading = call('GET', '/map')
  try {
    const data = await map.loading
    map.nodes = new Map(data.nodes.map((node) => [node.id, node]))
    map.edges = new Map(data.edges.map((edge) => [edgeKey(edge.from, edge.to), edge]))
    // Calls that arrived while loading and are newer than what was loaded.
    for (const event of map.queued) applyCall(event, true)
  } finally {
    map.loading = null
    map.queued = []
  }
  drawMap()
}

/** Takes in a `service.call` audit event; `onlyNewer` skips one the loaded state may already count. */
function applyCall(event, onlyNewer = false) {
  const service = event.details?.service
  if (typeof service !== 'string') return
  const caller = event.clientId ?? ANONYMOUS
  const key = edgeKey(caller, service)
  const edge = map.edges.get(key) ?? { from: caller, to: service, allowed: 0, denied: 0, decision: event.decision, reason: null, ts: event.ts }
  if (onlyNewer && map.edges.has(key) && event.ts <= edge.ts) return
  if (map.nodes.get(service)?.kind !== 'resource-server') map.nodes.set(service, { id: service, kind: 'service' })
  if (!map.nodes.has(caller)) map.nodes.set(caller, { id: caller, kind: 'caller' })
  if (event.decision === 'allow') edge.allowed += 1
  else edge.denied += 1
  if (event.ts >= edge.ts || edge.allowed + edge.denied === 1) {
    edge.decision = event.decision
    edge.reason = event.reason ?? null
    edge.ts = event.ts
  }
  map.edges.set(key, edge)
}

function edgeLabel(edge) {
  const latest = edge.decision === 'allow' ? 'allowed' : 'refused'
  return `${edge.from} → ${edge.to}: ${edge.allowed} allowed, ${edge.denied} refused; latest ${latest}${edge.reason ? `: ${edge.reason}` : ''}`
}

const KIND = { 'resource-server': 'resource server', service: 'service', caller: 'caller' }

function drawMap() {
  const svg = $('#map-svg')
  const focusedKey = document.activeElement?.getAttribute?.('data-key')
  const nodes = [...map.nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1))
  const edges = [...map.edges.values()]
  const width = 800
  const height = 560
  const radius = 26
  const ring = Math.min(220, 70 + nodes.length * 22)
  const position = new Map(
    nodes.map((node, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(nodes.length, 1)
      return [node.id, { x: width / 2 + ring * Math.cos(angle), y: height / 2 + ring * Math.sin(angle) }]
    }),
  )
  const marker = (decision) =>
    s(
      'marker',
      { id: `arrow-${decision}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' },
      s('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrow-${decision}` }),
    )
  const children = [s('defs', {}, marker('allow'), marker('deny'))]
  if (nodes.length === 0) children.push(s('text', { x: width / 2, y: height / 2, class: 'empty' }, 'No services yet: they appear when they are registered or report calls.'))

  for (const edge of edges) {
    const from = position.get(edge.from)
    const to = position.get(edge.to)
    if (!from || !to) continue
    let d
    if (edge.from === edge.to) {
      d = `M${from.x - 12},${from.y - radius} C${from.x - 50},${from.y - 100} ${from.x + 50},${from.y - 100} ${from.x + 12},${from.y - radius - 2}`
    } else {
      const dx = to.x - from.x
      const dy = to.y - from.y
      const length = Math.hypot(dx, dy)
      const ux = dx / length
      const uy = dy / length
      // Curved to the right of its direction, so calls both ways between two services stay apart.
      const bend = length * 0.12
      const cx = (from.x + to.x) / 2 - uy * bend
      const cy = (from.y + to.y) / 2 + ux * bend
      d = `M${from.x + ux * radius},${from.y + uy * radius} Q${cx},${cy} ${to.x - ux * (radius + 3)},${to.y - uy * (radius + 3)}`
    }
    const label = edgeLabel(edge)
    const key = edgeKey(edge.from, edge.to)
    children.push(
      s(
        'g',
        { class: `edge ${edge.decision}`, 'data-from': edge.from, 'data-to': edge.to, 'data-key': key, tabindex: 0, role: 'img', 'aria-label': label },
        s('title', {}, label),
        s('path', { d, 'marker-end': `url(#arrow-${edge.decision})` }),
      ),
    )
  }
  for (const node of nodes) {
    const { x, y } = position.get(node.id)
    const text = node.id.length > 28 ? `${node.id.slice(0, 27)}…` : node.id
    children.push(
      s(
        'g',
        { class: `node ${node.kind}`, 'data-node': node.id, role: 'img', 'aria-label': `${KIND[node.kind]} ${node.id}` },
        s('title', {}, `${KIND[node.kind]} ${node.id}`),
        s('circle', { cx: x, cy: y, r: radius }),
        s('text', { x, y: y + radius + 16 }, text),
      ),
    )
  }
  svg.replaceChildren(...children)
  if (focusedKey) svg.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus()

  fill(
    'map-table',
    edges
      .slice()
      .sort((a, b) => b.ts - a.ts)
      .map((edge) =>
        h(
          'tr',
          { 'data-key': edgeKey(edge.from, edge.to) },
          h('td', {}, edge.from),
          h('td', {}, edge.to),
          h('td', {}, edge.allowed),
          h('td', {}, edge.denied),
          h('td', { class: `decision-${edge.decision}` }, edge.decision === 'allow' ? 'allowed' : 'refused'),
          h('td', {}, edge.reason ?? ''),
        ),
      ),
  )
}

function connectEvents() {
  const source = new EventSource(`${api}/events`)
  let connections = 0
  source.addEventListener('ready', () => {
    connections += 1
    map.live = true
    $('#map').dataset.live = 'true'
    showMessage('map-status', 'Live: calls appear as the services report them.')
    // After a reconnection, calls may have been missed.
    if (connections > 1) void loadMap().catch(() => undefined)
  })
  source.addEventListener('audit', (message) => {
    const event = JSON.parse(message.data)
    if (event.type !== 'service.call') return
    if (map.loading) {
      map.queued.push(event)
      return
    }
    applyCall(event)
    drawMap()
  })
  source.addEventListener('dropped', () => void loadMap().catch(() => undefined))
  source.addEventListener('error', () => {
    map.live = false
    $('#map').dataset.live = 'false'
    if (source.readyState !== EventSource.CLOSED) {
      showMessage('map-status', 'Reconnecting to the live feed…')
      return
    }
    // Refused, not dropped: most likely the session ended, and any call says so (and signs in again).
    showMessage('map-status', 'The live feed stopped. Reload the page to resume it.')
    void call('GET', '/map').catch(() => undefined)
  })
}

// ---------------------------------------------------------------- the audit log

async function searchAudit(form) {
  const data = new FormData(form)
  const query = new URLSearchParams()
  for (const name of ['service', 'client', 'decision', 'reason']) {
    const value = String(data.get(name) ?? '').trim()
    if (value) query.set(name, value)
  }
  for (const name of ['since', 'until']) {
    const value = String(data.get(name) ?? '')
    if (value) query.set(name, String(new Date(value).getTime()))
  }
  query.set('limit', '200')
  const events = await call('GET', `/audit?${query}`)
  fill(
    'audit-table',
    events.map((event) =>
      h(
        'tr',
        {},
        h('td', {}, new Date(event.ts).toISOString().replace('T', ' ').replace('Z', '')),
        h('td', {}, event.type),
        h('td', { class: `decision-${event.decision}` }, event.decision),
        h('td', {}, event.clientId ?? ''),
        h('td', {}, event.subject ?? ''),
        h('td', {}, event.reason ?? ''),
        h('td', {}, event.details ? h('code', {}, JSON.stringify(event.details)) : ''),
      ),
    ),
  )
  if (events.length === 0) fill('audit-table', [h('tr', {}, h('td', { colspan: 7 }, 'No events match.'))])
}

// ---------------------------------------------------------------- the token inspector

function renderReport(report) {
  const chain =
    report.delegation.length > 1
      ? h(
          'ol',
          { class: 'chain', 'aria-label': 'Delegation, from the subject to the current actor' },
          report.delegation.map((party, i) =>
            h(
              'li',
              {},
              h('span', { class: 'actor' }, party, h('span', { class: 'role' }, i === 0 ? 'subject' : i === report.delegation.length - 1 ? 'current actor' : 'actor')),
            ),
          ),
        )
      : h('p', {}, report.delegation.length === 1 ? `No act claim: ${report.delegation[0]} is the subject and the only party.` : 'No subject.')
  const expiry = report.expiry
    ? h('p', { id: 'inspect-expiry', class: `verdict ${report.expiry.expired ? 'bad' : 'good'}` }, `${report.expiry.words} (${when(report.expiry.exp)})`)
    : h('p', { id: 'inspect-expiry' }, 'No expiry.')
  $('#inspect-result').replaceChildren(
    h(
      'div',
      { class: 'report' },
      h(
        'div',
        {},
        h('h2', {}, 'Verdict'),
        h('p', { id: 'inspect-signature', class: `verdict ${report.signature.verified ? 'good' : 'bad'}` }, report.signature.message),
        h('p', { id: 'inspect-status', class: `verdict ${report.status.active ? 'good' : 'bad'}` }, report.status.message),
        expiry,
        h('p', {}, `Format: ${report.format === 'reference' ? 'reference token (shown: the JWT it stands for)' : 'JWT'}`),
        h('h2', {}, 'Delegation'),
        chain,
      ),
      h(
        'div',
        {},
        h('h2', {}, 'Header'),
        h('pre', { id: 'inspect-header' }, report.header ? JSON.stringify(report.header, null, 2) : '–'),
        h('h2', {}, 'Claims'),
        h('pre', { id: 'inspect-claims' }, report.claims ? JSON.stringify(report.claims, null, 2) : '–'),
      ),
    ),
  )
}

// ---------------------------------------------------------------- administration

async function loadClients() {
  const clients = await call('GET', '/clients')
  fill(
    'clients-table',
    clients.map((client) =>
      h(
        'tr',
        {},
        h('td', {}, h('code', {}, client.id)),
        h('td', {}, client.type),
        h('td', {}, client.auth),
        h('td', {}, client.grantTypes.join(' ')),
        h('td', {}, client.scopes.join(' ')),
        h(
          'td',
          {},
          deleteButton(`Delete client ${client.id}`, () =>
            attempt('clients', async () => {
              if (!confirm(`Delete client ${client.id}? Its tokens stop being renewable.`)) return
              await call('DELETE', `/clients/${encodeURIComponent(client.id)}`)
              await loadClients()
            }),
          ),
        ),
      ),
    ),
  )
}

async function createClient(form) {
  const data = new FormData(form)
  const text = (name) => String(data.get(name) ?? '').trim()
  const grantTypes = words(text('grantTypes'))
  const redirectUris = lines(text('redirectUris'))
  const postLogoutRedirectUris = lines(text('postLogoutRedirectUris'))
  const { client, secret } = await call('POST', '/clients', {
    id: text('id'),
    type: text('type'),
    scopes: words(text('scopes')),
    grantTypes: grantTypes.length > 0 ? grantTypes : undefined,
    redirectUris: redirectUris.length > 0 ? redirectUris : undefined,
    postLogoutRedirectUris: postLogoutRedirectUris.length > 0 ? postLogoutRedirectUris : undefined,
    mayAct: optional(text('mayAct')),
    tokenFormat: text('tokenFormat'),
    phantomTokens: data.get('phantomTokens') === 'on',
  })
  const notice = $('#clients-notice')
  notice.replaceChildren(
    `Registered ${client.id}. `,
    secret ? h('span', {}, 'Its secret, shown once (only its hash is kept): ', h('code', { id: 'client-secret' }, secret)) : 'It has no secret.',
  )
  notice.hidden = false
  form.reset()
  await loadClients()
}

async function loadResources() {
  const resources = await call('GET', '/resource-servers')
  fill(
    'resources-table',
    resources.map((resource) =>
      h(
        'tr',
        {},
        h('td', {}, h('code', {}, resource.id)),
        h('td', {}, resource.scopes.join(' ')),
        h(
          'td',
          {},
          deleteButton(`Delete resource server ${resource.id}`, () =>
            attempt('resources', async () => {
              if (!confirm(`Delete resource server ${resource.id} and its scopes?`)) return
              await call('DELETE', `/resource-servers/${encodeURIComponent(resource.id)}`)
              await loadResources()
            }),
          ),
        ),
      ),
    ),
  )
}

async function loadKeys() {
  const keys = await call('GET', '/keys')
  fill(
    'keys-table',
    keys.map((key) =>
      h('tr', {}, h('td', {}, h('code', {}, key.kid)), h('td', {}, key.alg), h('td', {}, key.state), h('td', {}, when(key.createdAt)), h('td', {}, when(key.activatedAt)), h('td', {}, when(key.expiresAt))),
    ),
  )
}

async function loadCertificates() {
  const certificates = await call('GET', '/certificates')
  const now = Date.now() / 1000
  fill(
    'certificates-table',
    certificates.map((certificate) =>
      h(
        'tr',
        {},
        h('td', {}, h('code', {}, certificate.serialNumber)),
        h('td', {}, certificate.spiffeId),
        h('td', {}, certificate.kind),
        h('td', {}, when(certificate.notAfter)),
        h('td', {}, certificate.revokedAt === null ? 'no' : `${when(certificate.revokedAt)} (${certificate.revocationReason})`),
        h(
          'td',
          {},
          certificate.revokedAt === null && certificate.notAfter >= now
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'danger',
                  'aria-label': `Revoke certificate ${certificate.serialNumber}`,
                  onclick: () =>
                    attempt('certificates', async () => {
                      const reason = $('#revocation-reason').value
                      if (!confirm(`Revoke certificate ${certificate.serialNumber} of ${certificate.spiffeId} (${reason})?`)) return
                      await call('POST', `/certificates/${encodeURIComponent(certificate.serialNumber)}/revoke`, { reason })
                      await loadCertificates()
                    }),
                },
                'Revoke',
              )
            : '',
        ),
      ),
    ),
  )
}

async function loadUsers() {
  const users = await call('GET', '/users')
  fill(
    'users-table',
    users.map((user) =>
      h(
        'tr',
        {},
        h('td', {}, user.username),
        h('td', {}, h('code', {}, user.sub)),
        h('td', {}, user.name ?? ''),
        h('td', {}, user.email ?? ''),
        h('td', {}, user.admin ? 'yes' : 'no'),
        h(
          'td',
          {},
          deleteButton(`Delete user ${user.username}`, () =>
            attempt('users', async () => {
              if (!confirm(`Delete user ${user.username}? Their sessions end and their grants are revoked.`)) return
              await call('DELETE', `/users/${encodeURIComponent(user.username)}`)
              await loadUsers()
            }),
          ),
        ),
      ),
    ),
  )
}

// ---------------------------------------------------------------- wiring

function onSubmit(id, section, action) {
  $(`#${id}`).addEventListener('submit', (event) => {
    event.preventDefault()
    void attempt(section, () => action(event.currentTarget))
  })
}

onSubmit('audit-filter', 'audit', searchAudit)
onSubmit('inspect-form', 'inspect', async (form) => {
  renderReport(await call('POST', '/inspect', { token: String(new FormData(form).get('token') ?? '') }))
})
onSubmit('client-form', 'clients', createClient)
onSubmit('resource-form', 'resources', async (form) => {
  const data = new FormData(form)
  await call('POST', '/resource-servers', { id: String(data.get('id') ?? '').trim(), scopes: words(String(data.get('scopes') ?? '')) })
  form.reset()
  await loadResources()
})
onSubmit('rotate-form', 'keys', async (form) => {
  const emergency = new FormData(form).get('emergency') === 'on'
  if (emergency && !confirm('Drop the active signing key now? Every token it signed stops verifying.')) return
  const result = await call('POST', '/keys/rotate', { emergency })
  const notice = $('#keys-notice')
  notice.textContent = `${emergency ? `Dropped ${result.dropped ?? '(none)'}` : `Retired ${result.retired ?? '(none)'}`}; ${result.active} signs now.`
  notice.hidden = false
  await loadKeys()
})
onSubmit('user-form', 'users', async (form) => {
  const data = new FormData(form)
  const text = (name) => String(data.get(name) ?? '').trim()
  await call('POST', '/users', {
    username: text('username'),
    password: String(data.get('password') ?? ''),
    name: optional(text('name')),
    email: optional(text('email')),
    admin: data.get('admin') === 'on',
  })
  form.reset()
  await loadUsers()
})

const views = {
  map: () => attempt('map', loadMap),
  audit: () => attempt('audit', () => searchAudit($('#audit-filter'))),
  inspector: () => undefined,
  clients: () => attempt('clients', loadClients),
  resources: () => attempt('resources', loadResources),
  keys: () => attempt('keys', loadKeys),
  certificates: () => attempt('certificates', loadCertificates),
  users: () => attempt('users', loadUsers),
}

function route(moveFocus) {
  const wanted = window.location.hash.slice(1)
  const id = Object.hasOwn(views, wanted) ? wanted : 'map'
  for (const section of document.querySelectorAll('#console > section')) section.hidden = section.id !== id
  for (const link of document.querySelectorAll('header nav a')) {
    if (link.getAttribute('href') === `#${id}`) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  if (moveFocus) $(`#${id}-heading`)?.focus()
  void views[id]()
}

window.addEventListener('hashchange', () => route(true))
route(false)
connectEvents()
