import { readFileSync } from 'node:fs'
import { get } from 'node:http'
import { join, resolve } from 'node:path'
import { CaService, initCa, newWorkloadKey } from '@meshguard/pki'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerUser } from '../src/admin/users.js'
import { newCsrfToken, newSecret, secretHash } from '../src/authorize/secrets.js'
import { consoleErrorCodes } from '../src/console/console-error.js'
import { CONSOLE_CSP } from '../src/console/console-pages.js'
import type { ScryptParams } from '../src/crypto/password-hash.js'
import { encodeAccessToken, type AuditEvent } from '../src/index.js'
import { csrfToken, pageText } from './helpers/browser-session.js'
import { basic, postForm, startTestServer, type TestServer } from './helpers/test-server.js'

/** Cheap scrypt parameters: these tests are about the console, not the hash. */
const FAST_SCRYPT: ScryptParams = { N: 1024, r: 8, p: 1 }
const PASSWORD = 'correct horse battery staple'

interface Answer {
  status: number
  headers: Headers
  text: string
  json: () => Record<string, unknown>
}

/** A browser as far as the console cares: cookies by name, no redirects followed. */
class Agent {
  readonly cookies = new Map<string, string>()

  constructor(private readonly origin: string) {}

  async send(method: string, path: string, options: { form?: Record<string, string>; json?: unknown; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers }
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    if (cookie) headers.cookie = cookie
    let body: string | undefined = options.body
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(options.form).toString()
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(options.json)
    }
    const response = await fetch(`${this.origin}${path}`, { method, headers, body, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const name = pair.slice(0, pair.indexOf('=')).trim()
      const value = pair.slice(pair.indexOf('=') + 1).trim()
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    const text = await response.text()
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> }
  }

  /** Signs in through the console's form; returns the final answer of the POST. */
  async signIn(username: string, password = PASSWORD): Promise<Answer> {
    const form = await this.send('GET', '/console/login')
    return this.send('POST', '/console/login', { form: { csrf_token: csrfToken(form.text), username, password } })
  }

  /** The session's CSRF token, as the shell embeds it for the script. */
  async csrf(): Promise<string> {
    const shell = await this.send('GET', '/console')
    const token = /<meta name="mg-csrf-token" content="([^"]+)">/.exec(shell.text)?.[1]
    if (token === undefined) throw new Error(`no CSRF token in the shell (${shell.status}): ${pageText(shell.text)}`)
    return token
  }

  async api(method: string, path: string, json?: unknown, csrf?: string): Promise<Answer> {
    return this.send(method, `/console/api${path}`, { json, headers: csrf === undefined ? {} : { 'x-csrf-token': csrf } })
  }
}

describe('the console', () => {
  let ts: TestServer
  let origin: string
  let admin: Agent
  let adminCsrf: string
  const secret: Record<string, string> = {}
  const now = () => Math.floor(ts.clock.now() / 1000)

  async function newUser(username: string, isAdmin: boolean) {
    return registerUser(ts.server.context.store, { username, password: PASSWORD, admin: isAdmin }, now(), FAST_SCRYPT)
  }

  /** The audit events a filter finds, once what is pending is written. */
  async function audit(filter: Parameters<TestServer['server']['context']['store']['queryAudit']>[0]): Promise<AuditEvent[]> {
    await ts.server.context.audit.flush()
    return ts.server.context.store.queryAudit(filter, 1000)
  }

  function ingest(body: string | object, authorization?: string, contentType = 'application/json') {
    return fetch(`${ts.baseUrl}/audit/events`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(authorization !== undefined && { authorization }) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  }

  function call(n: number, overrides: Record<string, unknown> = {}) {
    return { ts: ts.clock.now() - 1000 + n, decision: 'allow', service: 'orders', caller: 'gateway', subject: 'alice', act: null, method: 'GET', path: `/orders/${n}`, reason: null, ...overrides }
  }

  beforeAll(async () => {
    ts = await startTestServer()
    origin = ts.baseUrl
    await ts.resource('orders', ['orders.read'])
    await ts.resource('payments', ['payments.write'])
    secret.orders = (await ts.client({ id: 'orders', scopes: ['payments.write'] }))!
    secret.payments = (await ts.client({ id: 'payments', scopes: [] }))!
    await ts.client({ id: 'shop-spa', type: 'spa', scopes: ['orders.read'], redirectUris: ['https://shop.example/cb'] })
    await newUser('root', true)
    await newUser('bob', false)
    admin = new Agent(origin)
    expect((await admin.signIn('root')).status).toBe(303)
    adminCsrf = await admin.csrf()
  })

  afterAll(async () => {
    await ts.stop()
    ts.cleanup()
  })

  describe('signing in', () => {
    it('sends a visitor without a session to the sign-in form, which has labelled fields and the console CSP', async () => {
      const visitor = new Agent(origin)
      const shell = await visitor.send('GET', '/console')
      expect(shell.status).toBe(302)
      expect(shell.headers.get('location')).toBe('/console/login')
      const form = await visitor.send('GET', '/console/login')
      expect(form.status).toBe(200)
      expect(form.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
      expect(form.headers.get('x-frame-options')).toBe('DENY')
      expect(form.text).toContain('<label for="username">Username</label>')
      expect(form.text).toContain('<label for="password">Password</label>')
      expect(form.text).not.toMatch(/<script|<style|style=/)
      expect(visitor.cookies.has('mg_console_login')).toBe(true)
    })

    it('answers the API 401 without a session', async () => {
      const response = await new Agent(origin).api('GET', '/clients')
      expect(response.status).toBe(401)
      expect(response.json()).toStrictEqual({ error: 'ERR_CONSOLE_SIGN_IN_REQUIRED', message: 'sign in to the console first' })
      expect((await new Agent(origin).api('POST', '/clients', { id: 'x' }, 'anything')).status).toBe(401)
    })

    it.each([
      ['a wrong password', { username: 'root', password: 'not the password at all' }, 401, 'The username or password is incorrect.'],
      ['an unknown user', { username: 'nobody', password: PASSWORD }, 401, 'The username or password is incorrect.'],
    ])('refuses %s with the same answer', async (_, credentials, status, message) => {
      const visitor = new Agent(origin)
      const answer = await visitor.signIn(credentials.username, credentials.password)
      expect(answer.status).toBe(status)
      expect(pageText(answer.text)).toContain(message)
      expect(visitor.cookies.has('mg_session')).toBe(false)
    })

    it('refuses a sign-in form posted without its CSRF token', async () => {
      const visitor = new Agent(origin)
      await visitor.send('GET', '/console/login')
      const answer = await visitor.send('POST', '/console/login', { form: { csrf_token: 'forged-forged-forged00', username: 'root', password: PASSWORD } })
      expect(answer.status).toBe(403)
      expect(pageText(answer.text)).toContain('The form expired. Try again.')
      expect(visitor.cookies.has('mg_session')).toBe(false)
    })

    it('refuses a sign-in form with a parameter sent twice with a 400 page', async () => {
      const visitor = new Agent(origin)
      await visitor.send('GET', '/console/login')
      const answer = await visitor.send('POST', '/console/login', { body: 'username=root&username=bob', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      expect(answer.status).toBe(400)
      expect(answer.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
      expect(pageText(answer.text)).toContain('parameter "username" is included more than once')
    })

    it('refuses a user who is not an administrator with a clear 403 page, and gives them no session', async () => {
      const bob = new Agent(origin)
      const answer = await bob.signIn('bob')
      expect(answer.status).toBe(403)
      expect(answer.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
      expect(pageText(answer.text)).toContain('bob is not an administrator. Only administrators can use the console')
      expect(bob.cookies.has('mg_session')).toBe(false)
    })

    it('refuses a non-administrator who is signed in from an application: 403 page and 403 API', async () => {
      const bob = await ts.server.context.store.getUserByUsername('bob')
      const sessionId = newSecret('session')
      await ts.server.context.store.createSession({ idHash: secretHash(sessionId), userId: bob!.id, authTime: now(), csrfToken: newCsrfToken(), createdAt: now(), expiresAt: now() + 3600 })
      const browser = new Agent(origin)
      browser.cookies.set('mg_session', sessionId)
      const page = await browser.send('GET', '/console')
      expect(page.status).toBe(403)
      expect(pageText(page.text)).toContain('bob is not an administrator')
      expect(page.text).toContain('name="csrf_token"')
      const api = await browser.api('GET', '/users')
      expect(api.status).toBe(403)
      expect(api.json()).toStrictEqual({ error: 'ERR_CONSOLE_NOT_ADMIN', message: 'bob is not an administrator' })
      expect((await audit({ type: 'console.refused', reason: 'not_admin' })).length).toBeGreaterThan(0)
    })

    it("reuses an administrator's existing mg_session, made by the sign-in pages", async () => {
      const root = await ts.server.context.store.getUserByUsername('root')
      const sessionId = newSecret('session')
      const csrf = newCsrfToken()
      await ts.server.context.store.createSession({ idHash: secretHash(sessionId), userId: root!.id, authTime: now(), csrfToken: csrf, createdAt: now(), expiresAt: now() + 3600 })
      const browser = new Agent(origin)
      browser.cookies.set('mg_session', sessionId)
      expect((await browser.send('GET', '/console/login')).headers.get('location')).toBe('/console')
      const shell = await browser.send('GET', '/console')
      expect(shell.status).toBe(200)
      expect(shell.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
      expect(await browser.csrf()).toBe(csrf)
      expect(shell.text).toMatch(/<script type="module" src="\/console\/assets\/console\.[\w-]+\.js"><\/script>/)
      expect(shell.text).not.toMatch(/<script>|<style|style=/)
    })

    it('serves its one script and one stylesheet, named by content and cached for good', async () => {
      const shell = await admin.send('GET', '/console')
      for (const [pattern, type] of [
        [/src="(\/console\/assets\/console\.[\w-]+\.js)"/, 'text/javascript; charset=utf-8'],
        [/href="(\/console\/assets\/console\.[\w-]+\.css)"/, 'text/css; charset=utf-8'],
      ] as const) {
        const path = pattern.exec(shell.text)![1]!
        const asset = await new Agent(origin).send('GET', path)
        expect(asset.status).toBe(200)
        expect(asset.headers.get('content-type')).toBe(type)
        expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      }
    })

    it('signs out with the session token only, ending the session', async () => {
      const browser = new Agent(origin)
      await browser.signIn('root')
      const csrf = await browser.csrf()
      expect((await browser.send('POST', '/console/logout', { form: { csrf_token: 'wrong' } })).status).toBe(403)
      expect((await browser.api('GET', '/users')).status).toBe(200)
      const out = await browser.send('POST', '/console/logout', { form: { csrf_token: csrf } })
      expect(out.status).toBe(303)
      expect(out.headers.get('location')).toBe('/console/login')
      expect(browser.cookies.has('mg_session')).toBe(false)
      expect((await audit({ type: 'session.ended', reason: 'console logout' })).length).toBeGreaterThan(0)
    })
  })

  describe('CSRF protection of the API', () => {
    it.each([
      ['no X-CSRF-Token header', undefined],
      ['a wrong one', 'A'.repeat(22)],
      ['an empty one', ''],
    ])('refuses a change with %s, and changes nothing', async (_, csrf) => {
      const response = await admin.api('POST', '/resource-servers', { id: 'csrf-victim', scopes: ['victim.read'] }, csrf)
      expect(response.status).toBe(403)
      expect(response.json().error).toBe('ERR_CONSOLE_CSRF')
      expect((await ts.server.context.store.listResourceServers()).map((r) => r.id)).not.toContain('csrf-victim')
    })

    it('needs no token to read', async () => {
      expect((await admin.api('GET', '/resource-servers')).status).toBe(200)
    })
  })

  describe('audit ingest (POST /audit/events)', () => {
    const orders = () => basic('orders', secret.orders!)

    it('records a good batch as service.call events, with the reporter', async () => {
      const response = await ingest({ events: [call(1), call(2, { decision: 'deny', caller: 'cart', subject: null, act: ['edge', 'gateway'], reason: 'insufficient_scope' })] }, orders())
      expect(response.status).toBe(202)
      expect(await response.json()).toStrictEqual({ accepted: 2 })
      const recorded = await audit({ type: 'service.call', service: 'orders', since: ts.clock.now() - 1000 })
      expect(recorded).toStrictEqual([
        {
          ts: ts.clock.now() - 1000 + 2,
          type: 'service.call',
          decision: 'deny',
          clientId: 'cart',
          act: ['edge', 'gateway'],
          reason: 'insufficient_scope',
          details: { service: 'orders', method: 'GET', path: '/orders/2', reporter: 'orders' },
        },
        {
          ts: ts.clock.now() - 1000 + 1,
          type: 'service.call',
          decision: 'allow',
          clientId: 'gateway',
          subject: 'alice',
          details: { service: 'orders', method: 'GET', path: '/orders/1', reporter: 'orders' },
        },
      ])
    })

    it('takes client authentication parameters in the JSON object, as a form would carry them', async () => {
      const response = await ingest({ client_id: 'payments', client_secret: secret.payments, events: [call(3, { service: 'payments', caller: 'orders', path: '/payments' })] })
      expect(response.status).toBe(202)
    })

    const refusals: Array<[string, () => Promise<Response>, number, string, RegExp]> = [
      ['no client authentication', () => ingest({ events: [call(10)] }), 401, 'invalid_client', /^client authentication is required$/],
      ['a wrong secret', () => ingest({ events: [call(11)] }, basic('orders', 'x'.repeat(43))), 401, 'invalid_client', /^client authentication failed$/],
      ['a public client', () => ingest({ client_id: 'shop-spa', events: [call(12, { service: 'shop-spa' })] }), 401, 'invalid_client', /^public clients cannot report service calls$/],
      [
        'a call to another service (wrong reporter)',
        () => ingest({ events: [call(13), call(14, { service: 'payments' })] }, orders()),
        403,
        'invalid_request',
        /^a service reports only calls to itself: events\.1\.service is "payments", not the authenticated client "orders"$/,
      ],
      ['too many events', () => ingest({ events: Array.from({ length: 501 }, (_, i) => call(100 + i)) }, orders()), 400, 'invalid_request', /^the body is not a batch of service calls: events: Too big: expected array to have <=500 items$/],
      ['malformed JSON', () => ingest('{"events": [', orders()), 400, 'invalid_request', /^the body is not JSON: /],
      ['a body that is not JSON at all', () => ingest('events=1', orders(), 'application/x-www-form-urlencoded'), 400, 'invalid_request', /^content type must be application\/json$/],
      ['no events', () => ingest({ events: [] }, orders()), 400, 'invalid_request', /^the body is not a batch of service calls: events: Too small/],
      ['an unknown decision', () => ingest({ events: [call(15, { decision: 'maybe' })] }, orders()), 400, 'invalid_request', /^the body is not a batch of service calls: events\.0\.decision: /],
      ['a path too long', () => ingest({ events: [call(16, { path: `/${'a'.repeat(2048)}` })] }, orders()), 400, 'invalid_request', /events\.0\.path: Too big/],
      ['a control character', () => ingest({ events: [call(17, { path: '/a\nb' })] }, orders()), 400, 'invalid_request', /events\.0\.path: must not contain control characters/],
      ['an unknown member', () => ingest({ events: [call(18, { extra: 1 })] }, orders()), 400, 'invalid_request', /events\.0: Unrecognized key: "extra"/],
      ['a time far ahead of the server', () => ingest({ events: [call(19, { ts: ts.clock.now() + 3_600_000 })] }, orders()), 400, 'invalid_request', /^events\.0\.ts is more than 5 minutes ahead/],
    ]

    it.each(refusals)('refuses %s and records nothing of the batch', async (_, send, status, error, description) => {
      const before = (await audit({ type: 'service.call' })).length
      const response = await send()
      expect(response.status).toBe(status)
      const body = (await response.json()) as { error: string; error_description: string }
      expect(body.error).toBe(error)
      expect(body.error_description).toMatch(description)
      if (status === 401) expect(response.headers.get('www-authenticate')).toMatch(/^Basic /)
      expect((await audit({ type: 'service.call' })).length).toBe(before)
    })

    it('audits each refusal', async () => {
      const refused = await audit({ type: 'audit_events.refused' })
      expect(refused.map((event) => event.reason)).toContain('invalid_client: client authentication is required')
      expect(refused.find((event) => event.reason?.startsWith('invalid_request: a service reports only calls to itself'))).toMatchObject({ clientId: 'orders' })
    })

    it('accepts only POST', async () => {
      const response = await fetch(`${ts.baseUrl}/audit/events`)
      expect(response.status).toBe(405)
      expect(response.headers.get('allow')).toBe('POST')
    })
  })

  describe('the audit log', () => {
    beforeAll(async () => {
      const response = await ingest(
        {
          events: [
            call(201, { service: 'payments', caller: 'orders', decision: 'deny', reason: 'ERR_CHAIN_REFUSED', path: '/pay' }),
            call(202, { service: 'payments', caller: 'orders', decision: 'allow', path: '/pay' }),
            call(203, { service: 'payments', caller: null, decision: 'deny', reason: 'ERR_TOKEN_MISSING', path: '/pay' }),
          ],
        },
        basic('payments', secret.payments!),
      )
      expect(response.status).toBe(202)
    })

    it.each([
      ['service', 'service=payments&since=SINCE', ['/pay', '/pay', '/pay']],
      ['service and decision', 'service=payments&decision=deny&since=SINCE', ['ERR_TOKEN_MISSING', 'ERR_CHAIN_REFUSED']],
      ['client', 'client=orders&type=service.call&since=SINCE', ['/pay', '/pay']],
      ['reason', 'reason=chain_refused&since=SINCE', ['ERR_CHAIN_REFUSED']],
      ['time range', 'service=payments&since=SINCE&until=UNTIL', ['/pay']],
    ])('filters by %s, newest first', async (_, query, expected) => {
      const since = String(ts.clock.now() - 1000 + 200)
      const until = String(ts.clock.now() - 1000 + 201)
      const response = await admin.api('GET', `/audit?${query.replace('SINCE', since).replace('UNTIL', until)}`)
      expect(response.status).toBe(200)
      const events = response.json() as unknown as AuditEvent[]
      const shown = expected[0]!.startsWith('/') ? events.map((e) => e.details?.path) : events.map((e) => e.reason)
      expect(shown).toStrictEqual(expected)
    })

    it('refuses a filter it cannot read', async () => {
      const response = await admin.api('GET', '/audit?decision=perhaps&limit=5000')
      expect(response.status).toBe(400)
      expect(response.json().error).toBe('ERR_CONSOLE_BAD_REQUEST')
      expect(response.json().message).toMatch(/decision: .*; limit: Too big/)
    })

    it('draws the map from resource servers and reported calls, each edge with its latest decision', async () => {
      const map = (await admin.api('GET', '/map')).json() as { nodes: Array<{ id: string; kind: string }>; edges: Array<Record<string, unknown>> }
      expect(map.nodes).toEqual(expect.arrayContaining([{ id: 'orders', kind: 'resource-server' }, { id: 'payments', kind: 'resource-server' }, { id: 'cart', kind: 'caller' }, { id: '(no token)', kind: 'caller' }]))
      expect(map.edges.find((edge) => edge.from === 'orders' && edge.to === 'payments')).toMatchObject({ allowed: 2, denied: 1, decision: 'allow', reason: null })
      expect(map.edges.find((edge) => edge.from === '(no token)')).toMatchObject({ to: 'payments', denied: 1, decision: 'deny', reason: 'ERR_TOKEN_MISSING' })
    })
  })

  describe('the live event stream', () => {
    function open(agent: Agent): Promise<{ status: number; frames: string[]; close: () => void; next: (match: RegExp) => Promise<string> }> {
      return new Promise((done, fail) => {
        const cookie = [...agent.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
        const request = get(`${origin}/console/api/events`, { agent: false, headers: { cookie, accept: 'text/event-stream' } }, (response) => {
          const frames: string[] = []
          let buffer = ''
          const waiters: Array<() => void> = []
          response.setEncoding('utf8')
          response.on('data', (chunk: string) => {
            buffer += chunk
            let end
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              frames.push(buffer.slice(0, end))
              buffer = buffer.slice(end + 2)
            }
            for (const wake of waiters.splice(0)) wake()
          })
          done({
            status: response.statusCode ?? 0,
            frames,
            close: () => request.destroy(),
            async next(match) {
              const deadline = Date.now() + 3000
              for (;;) {
                const found = frames.find((frame) => match.test(frame))
                if (found !== undefined) return found
                if (Date.now() > deadline) throw new Error(`no frame matching ${match} in ${JSON.stringify(frames)}`)
                await new Promise<void>((wake) => {
                  waiters.push(wake)
                  setTimeout(wake, 50)
                })
              }
            },
          })
        })
        request.on('error', fail)
      })
    }

    it('streams audit events to administrators as they are recorded', async () => {
      const stream = await open(admin)
      try {
        expect(stream.status).toBe(200)
        await stream.next(/^event: ready/)
        await ingest({ events: [call(300, { decision: 'deny', caller: 'cart', reason: 'live-test' })] }, basic('orders', secret.orders!))
        const frame = await stream.next(/live-test/)
        const event = JSON.parse(frame.split('\n').find((line) => line.startsWith('data: '))!.slice(6)) as AuditEvent
        expect(event).toMatchObject({ type: 'service.call', decision: 'deny', clientId: 'cart', details: { service: 'orders' } })
      } finally {
        stream.close()
      }
    })

    it('is refused to anyone else', async () => {
      const stream = await open(new Agent(origin))
      stream.close()
      expect(stream.status).toBe(401)
    })
  })

  describe('the token inspector', () => {
    async function issue(): Promise<string> {
      const response = await postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('orders', secret.orders!) })
      return response.body.access_token as string
    }
    const inspect = async (token: string) => {
      const response = await admin.api('POST', '/inspect', { token }, adminCsrf)
      expect(response.status).toBe(200)
      return response.json() as unknown as {
        header: Record<string, unknown>
        claims: Record<string, unknown>
        signature: { verified: boolean; kid: string; message: string }
        expiry: { words: string; expired: boolean }
        status: { active: boolean; reason: string | null }
        delegation: string[]
      }
    }

    it('shows a valid token decoded, verified by the kid that signed it, and active', async () => {
      const token = await issue()
      const report = await inspect(token)
      const kid = ts.server.context.keys.signer().kid
      expect(report.header).toStrictEqual({ alg: 'ES256', typ: 'at+jwt', kid })
      expect(report.claims).toMatchObject({ sub: 'orders', client_id: 'orders', scope: 'payments.write', aud: 'payments' })
      expect(report.signature).toStrictEqual({ verified: true, kid, message: `signature verified with key "${kid}" (ES256)` })
      expect(report.expiry).toMatchObject({ expired: false, words: 'expires in 10 minutes' })
      expect(report.status).toMatchObject({ active: true, reason: null })
      expect(report.delegation).toStrictEqual(['orders'])
    })

    it('draws the act chain from the subject to the current actor', async () => {
      const t = now()
      const token = encodeAccessToken(
        { iss: ts.issuer, sub: 'alice', aud: 'payments', exp: t + 540, iat: t, nbf: t, jti: 'act-chain', client_id: 'orders', scope: 'payments.write', act: { sub: 'orders', act: { sub: 'gateway' } } },
        ts.server.context.keys.signer(),
      )
      const report = await inspect(token)
      expect(report.delegation).toStrictEqual(['alice', 'gateway', 'orders'])
      expect(report.expiry.words).toBe('expires in 9 minutes')
    })

    it('shows an expired token as verified but expired, in words', async () => {
      const token = await issue()
      ts.clock.advance(600 + 7200)
      try {
        const report = await inspect(token)
        expect(report.signature.verified).toBe(true)
        expect(report.expiry).toMatchObject({ expired: true, words: 'expired 2 hours ago' })
        expect(report.status).toMatchObject({ active: false, reason: 'expired' })
      } finally {
        ts.clock.advance(-(600 + 7200))
      }
    })

    it('shows a revoked token as revoked', async () => {
      const token = await issue()
      expect((await postForm(ts.revocationEndpoint, { token }, { authorization: basic('orders', secret.orders!) })).status).toBe(200)
      const report = await inspect(token)
      expect(report.signature.verified).toBe(true)
      expect(report.status).toMatchObject({ active: false, reason: 'revoked' })
    })

    it.each([
      ['a changed claim', (token: string) => { const [h, p, s] = token.split('.'); const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>; return `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'everything' })).toString('base64url')}.${s}` }, /^not verified: the signature does not verify with key "/, 'bad_signature'],
      ['an unknown kid', (token: string) => { const [, p, s] = token.split('.'); return `${Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'forged' })).toString('base64url')}.${p}.${s}` }, /^not verified: key "forged" is not in the server's JWKS$/, 'unknown_kid'],
      ['alg none', (token: string) => { const [, p, s] = token.split('.'); return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: ts.server.context.keys.signer().kid })).toString('base64url')}.${p}.${s}` }, /^not verified: alg "none" is not the algorithm of key/, 'unsupported_alg'],
    ])('shows a forged token (%s) as not verified', async (_, forge, message, reason) => {
      const report = await inspect(forge(await issue()))
      expect(report.signature.verified).toBe(false)
      expect(report.signature.message).toMatch(message)
      expect(report.status).toMatchObject({ active: false, reason })
    })

    it('says what it cannot decode', async () => {
      const report = await inspect('not a token')
      expect(report).toMatchObject({ header: null, claims: null, signature: { verified: false, message: 'nothing to verify: not a JWT (compact JWS)' }, status: { active: false, reason: 'malformed' } })
    })
  })

  describe('administration, through the functions the CLI uses', () => {
    it('refuses a client with an invalid redirect URI with the registration error, and audits the refusal', async () => {
      const response = await admin.api('POST', '/clients', { id: 'bad-web', type: 'web', scopes: ['openid'], redirectUris: ['http://app.example/callback#fragment'] }, adminCsrf)
      expect(response.status).toBe(400)
      expect(response.json()).toStrictEqual({
        error: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/^redirect URI "http:\/\/app\.example\/callback#fragment" /),
      })
      expect(await ts.server.context.store.getClient('bad-web')).toBeUndefined()
      const [refused] = await audit({ type: 'console.client.created', decision: 'deny' })
      expect(refused).toMatchObject({ reason: 'ERR_INVALID_ARGUMENT', details: { client_id: 'bad-web', by: 'root' } })
    })

    it('registers a client (its secret shown once), which can get a token at once, and deletes it', async () => {
      const created = await admin.api('POST', '/clients', { id: 'reports', scopes: ['orders.read'] }, adminCsrf)
      expect(created.status).toBe(201)
      const { client, secret: clientSecret } = created.json() as { client: Record<string, unknown>; secret: string }
      expect(client).toMatchObject({ id: 'reports', type: 'service', auth: 'client_secret', grantTypes: ['client_credentials'] })
      expect(JSON.stringify((await admin.api('GET', '/clients')).json())).not.toContain('sha256$')
      expect((await postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('reports', clientSecret) })).status).toBe(200)

      expect((await admin.api('POST', '/clients', { id: 'reports', scopes: ['orders.read'] }, adminCsrf)).json()).toStrictEqual({ error: 'ERR_STORE_CONFLICT', message: 'client "reports" already exists' })
      expect((await admin.api('DELETE', '/clients/reports', undefined, adminCsrf)).status).toBe(200)
      expect((await postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('reports', clientSecret) })).status).toBe(401)
      expect((await admin.api('DELETE', '/clients/reports', undefined, adminCsrf)).json()).toStrictEqual({ error: 'ERR_STORE_NOT_FOUND', message: 'no client "reports"' })
      expect((await audit({ type: 'console.client.deleted', decision: 'allow' })).map((e) => e.details?.client_id)).toContain('reports')
    })

    it('registers and deletes a resource server named by a URL', async () => {
      const id = 'https://inventory.internal/api'
      const refused = await admin.api('POST', '/resource-servers', { id, scopes: ['openid'] }, adminCsrf)
      expect(refused.json()).toStrictEqual({ error: 'ERR_INVALID_ARGUMENT', message: 'scope "openid" belongs to OpenID Connect and is served by the authorization server itself' })
      expect((await admin.api('POST', '/resource-servers', { id, scopes: ['inventory.read'] }, adminCsrf)).status).toBe(201)
      expect((await admin.api('GET', '/resource-servers')).json()).toEqual(expect.arrayContaining([expect.objectContaining({ id, scopes: ['inventory.read'] })]))
      expect((await admin.api('DELETE', `/resource-servers/${encodeURIComponent(id)}`, undefined, adminCsrf)).json()).toStrictEqual({ deleted: id })
    })

    it('creates an administrator and a user under the password policy, lists them without hashes, and deletes one', async () => {
      const weak = await admin.api('POST', '/users', { username: 'carol', password: 'short' }, adminCsrf)
      expect(weak.json()).toStrictEqual({ error: 'ERR_INVALID_ARGUMENT', message: 'password must be at least 12 characters' })
      expect((await admin.api('POST', '/users', { username: 'Carol', password: PASSWORD, admin: true }, adminCsrf)).json()).toMatchObject({ username: 'carol', admin: true })
      const users = (await admin.api('GET', '/users')).json() as unknown as Array<{ username: string; admin: boolean }>
      expect(users.map((user) => [user.username, user.admin])).toEqual(expect.arrayContaining([['carol', true], ['bob', false], ['root', true]]))
      expect(JSON.stringify(users)).not.toContain('scrypt')
      expect((await admin.api('DELETE', '/users/CAROL', undefined, adminCsrf)).status).toBe(200)
      expect((await admin.api('DELETE', '/users/carol', undefined, adminCsrf)).json()).toStrictEqual({ error: 'ERR_STORE_NOT_FOUND', message: 'no user "carol"' })
    })

    it('refuses to delete the account the administrator is signed in with', async () => {
      const response = await admin.api('DELETE', '/users/root', undefined, adminCsrf)
      expect(response.json()).toStrictEqual({ error: 'ERR_INVALID_ARGUMENT', message: 'you cannot delete the account you are signed in with' })
      expect(await ts.server.context.store.getUserByUsername('root')).toBeDefined()
    })

    it('rotates signing keys as `meshguard keys rotate` does: not before the next key is published, at once in an emergency', async () => {
      const before = ts.server.context.keys.signer().kid
      const early = await admin.api('POST', '/keys/rotate', {}, adminCsrf)
      expect(early.status).toBe(409)
      expect(early.json()).toStrictEqual({ error: 'ERR_CONSOLE_ROTATION_NOT_DUE', message: 'the next key has not been published for 900 seconds yet, so verifiers may not hold it; try later or rotate in an emergency' })
      const emergency = await admin.api('POST', '/keys/rotate', { emergency: true }, adminCsrf)
      expect(emergency.status).toBe(200)
      expect(emergency.json()).toMatchObject({ dropped: before, retired: null })
      expect(ts.server.context.keys.signer().kid).not.toBe(before)
      const keys = (await admin.api('GET', '/keys')).json() as unknown as Array<Record<string, unknown>>
      expect(keys.map((key) => key.kid)).not.toContain(before)
      expect(JSON.stringify(keys)).not.toContain('sealed')
    })

    it('lists certificates and revokes one through the CA service', async () => {
      const { context } = ts.server
      // As `meshguard ca init` makes it: in the data directory, sealed under the key encryption key.
      const ca = await initCa({ dir: join(ts.dataDir, 'ca'), trustDomain: 'mesh.test', passphrase: ts.keyEncryptionKey })
      const { csrPem } = await newWorkloadKey('spiffe://mesh.test/orders')
      const issued = await new CaService({ ca, store: context.store }).issueOffline({ csr: csrPem, identity: 'spiffe://mesh.test/orders' })

      const listed = (await admin.api('GET', '/certificates')).json() as unknown as Array<Record<string, unknown>>
      expect(listed).toMatchObject([{ serialNumber: issued.serialNumber, spiffeId: 'spiffe://mesh.test/orders', revokedAt: null }])
      const badReason = await admin.api('POST', `/certificates/${issued.serialNumber}/revoke`, { reason: 'boredom' }, adminCsrf)
      expect(badReason.status).toBe(400)
      const revoked = await admin.api('POST', `/certificates/${issued.serialNumber}/revoke`, { reason: 'keyCompromise' }, adminCsrf)
      expect(revoked.json()).toStrictEqual({ revoked: issued.serialNumber, reason: 'keyCompromise' })
      expect(await context.store.getCertificate(issued.serialNumber)).toMatchObject({ revocationReason: 'keyCompromise' })
      const again = await admin.api('POST', `/certificates/${issued.serialNumber}/revoke`, { reason: 'keyCompromise' }, adminCsrf)
      expect(again.json()).toStrictEqual({ error: 'ERR_NOT_FOUND', message: `no unrevoked certificate with serial number ${issued.serialNumber}` })
      expect((await audit({ type: 'ca.revoke', decision: 'allow' })).map((event) => event.subject)).toStrictEqual(['spiffe://mesh.test/orders'])
    })

    it('answers an unknown API call 404', async () => {
      expect((await admin.api('GET', '/nothing-here')).json()).toStrictEqual({ error: 'ERR_CONSOLE_NOT_FOUND', message: 'no such console API call' })
    })
  })

  it('documents every console error code in docs/errors.md', () => {
    const catalogue = readFileSync(resolve(import.meta.dirname, '../../../docs/errors.md'), 'utf8')
    for (const code of consoleErrorCodes) expect(catalogue).toContain(`| \`${code}\` |`)
  })
})
