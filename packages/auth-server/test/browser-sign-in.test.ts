import { randomBytes } from 'node:crypto'
import { statSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import escapeHtml from 'escape-html'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { registerUser } from '../src/admin/users.js'
import type { ScryptParams } from '../src/crypto/password-hash.js'
import { pkcePair } from './helpers/browser-session.js'
import { artifactPath, launchChromium } from './helpers/chromium.js'
import { basic, postForm, startTestServer, type TestServer } from './helpers/test-server.js'

const SCOPES = ['openid', 'profile', 'a.read']
/** Cheap scrypt parameters: these tests are about the browser, not the hash. */
const FAST_SCRYPT: ScryptParams = { N: 1024, r: 8, p: 1 }
const BROWSER_TIMEOUT_MS = 60_000

interface Flow {
  verifier: string
  nonce: string
}

interface ClientApp {
  url: string
  /** Every `state` the app sent to `/authorize`, in order. */
  states: string[]
  close(): Promise<void>
}

interface Reply {
  status: number
  headers: Record<string, string>
  body: string
}

function html(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, body: `<!doctype html><title>client</title>${body}` }
}

interface Discovery {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
}

/**
 * A confidential web client as a relying party writes one: `/` starts a flow (state, nonce,
 * PKCE S256), `/callback` checks `state` and `iss` (RFC 9207), redeems the code with
 * client_secret_basic and the verifier, verifies the ID token and shows who signed in.
 * `/frame` frames whatever `src` names, next to a frame of its own that allows framing.
 */
async function startClientApp(ts: TestServer, clientId: string): Promise<ClientApp> {
  const discovery = (await (await fetch(`${ts.issuer}/.well-known/openid-configuration`)).json()) as Discovery
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri))
  const flows = new Map<string, Flow>()
  const states: string[] = []
  let secret = ''
  let redirectUri = ''

  async function callback(query: URLSearchParams): Promise<Reply> {
    const state = query.get('state') ?? ''
    const flow = flows.get(state)
    flows.delete(state)
    if (flow === undefined) return html(400, '<p id="failure">unknown state</p>')
    if (query.get('iss') !== discovery.issuer) return html(400, `<p id="failure">iss ${escapeHtml(query.get('iss') ?? '(none)')} is not the issuer</p>`)
    const error = query.get('error')
    if (error !== null) return html(200, `<p id="error">${escapeHtml(error)}</p>`)
    const token = await postForm(
      discovery.token_endpoint,
      { grant_type: 'authorization_code', code: query.get('code') ?? '', redirect_uri: redirectUri, code_verifier: flow.verifier },
      { authorization: basic(clientId, secret) },
    )
    if (token.status !== 200) return html(400, `<p id="failure">token endpoint: ${escapeHtml(JSON.stringify(token.body))}</p>`)
    const { payload } = await jwtVerify(token.body.id_token as string, jwks, {
      issuer: discovery.issuer,
      audience: clientId,
      currentDate: new Date(ts.clock.now()),
    })
    if (payload.nonce !== flow.nonce) return html(400, '<p id="failure">nonce mismatch</p>')
    const sub = escapeHtml(payload.sub ?? '')
    const scope = escapeHtml(token.body.scope as string)
    return html(200, `<p id="result">signed in as <span id="sub">${sub}</span> with scope <span id="scope">${scope}</span></p>`)
  }

  function startFlow(): Reply {
    const state = randomBytes(16).toString('base64url')
    const nonce = randomBytes(16).toString('base64url')
    const { verifier, challenge } = pkcePair()
    flows.set(state, { verifier, nonce })
    states.push(state)
    const authorize = new URL(discovery.authorization_endpoint)
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: SCOPES.join(' '),
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString()
    return { status: 302, headers: { location: authorize.href }, body: '' }
  }

  async function route(request: IncomingMessage): Promise<Reply> {
    const url = new URL(request.url ?? '/', 'http://client.invalid')
    switch (url.pathname) {
      case '/':
        return startFlow()
      case '/callback':
        return callback(url.searchParams)
      case '/frame':
        return html(200, `<iframe id="login" src="${escapeHtml(url.searchParams.get('src') ?? '')}"></iframe><iframe id="control" src="/framable"></iframe>`)
      case '/framable':
        return html(200, '<form><input name="password" type="password" autocomplete="current-password"></form>')
      default:
        return html(404, '<p>not found</p>')
    }
  }

  const server = createServer((request, response) => {
    route(request)
      .catch((err: unknown) => html(500, `<p id="failure">${escapeHtml(String(err))}</p>`))
      .then(({ status, headers, body }) => response.writeHead(status, headers).end(body))
      .catch(() => response.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  redirectUri = `${url}/callback`
  secret = (await ts.client({ id: clientId, type: 'web', scopes: SCOPES, redirectUris: [redirectUri] }))!
  return {
    url,
    states,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err)
          else resolve()
        })
      }),
  }
}

/** The element that has the keyboard focus. */
function focused(page: Page): Locator {
  return page.locator(':focus')
}

describe('signing in with a real browser', { timeout: BROWSER_TIMEOUT_MS }, () => {
  let ts: TestServer
  let app: ClientApp
  let browser: Browser
  let context: BrowserContext | undefined

  beforeAll(async () => {
    ts = await startTestServer()
    await ts.resource('https://api-a.example', ['a.read'])
    app = await startClientApp(ts, 'web-app')
    browser = await launchChromium()
  }, BROWSER_TIMEOUT_MS)

  afterEach(async () => {
    await context?.close()
    context = undefined
  })

  afterAll(async () => {
    await browser.close()
    await app.close()
    await ts.stop()
    ts.cleanup()
  })

  async function newUser(username: string) {
    const password = randomBytes(18).toString('base64url')
    const user = await registerUser(ts.server.context.store, { username, password }, Math.floor(ts.clock.now() / 1000), FAST_SCRYPT)
    return { id: user.id, username, password }
  }

  async function newPage(): Promise<Page> {
    context = await browser.newContext()
    return context.newPage()
  }

  async function signIn(page: Page, user: { username: string; password: string }): Promise<void> {
    await page.getByLabel('Username').fill(user.username)
    await page.getByLabel('Password').fill(user.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('button', { name: 'Allow' }).waitFor()
  }

  async function resultOf(page: Page): Promise<{ sub: string; scopes: string[] }> {
    await page.locator('#result, #failure, #error').first().waitFor()
    expect(await page.locator('#result').count(), await page.locator('body').innerText()).toBe(1)
    return {
      sub: await page.locator('#sub').innerText(),
      scopes: (await page.locator('#scope').innerText()).split(' ').sort(),
    }
  }

  it('signs in through the login and consent pages and ends at the client with the user and scopes', async () => {
    const alice = await newUser('alice')
    const page = await newPage()
    await page.goto(app.url)
    await page.getByRole('button', { name: 'Sign in' }).waitFor()
    expect(new URL(page.url()).origin).toBe(new URL(ts.issuer).origin)

    const screenshot = artifactPath('login-page.png')
    await page.screenshot({ path: screenshot, fullPage: true })
    expect(statSync(screenshot).size).toBeGreaterThan(0)

    await signIn(page, alice)
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL(`${app.url}/callback?**`)
    expect(await resultOf(page)).toEqual({ sub: alice.id, scopes: [...SCOPES].sort() })
    expect(await page.locator('#result').innerText()).toBe(`signed in as ${alice.id} with scope ${await page.locator('#scope').innerText()}`)
  })

  it('signs in with the keyboard alone: focus starts in Username, Tab reaches Password, Enter submits', async () => {
    const bob = await newUser('bob')
    const page = await newPage()
    await page.goto(app.url)
    const username = page.getByLabel('Username')
    await username.waitFor()
    expect(await username.and(focused(page)).count()).toBe(1)

    await page.keyboard.type(bob.username)
    await page.keyboard.press('Tab')
    expect(await page.getByLabel('Password').and(focused(page)).count()).toBe(1)
    await page.keyboard.type(bob.password)
    await page.keyboard.press('Enter')

    const allow = page.getByRole('button', { name: 'Allow' })
    await allow.waitFor()
    expect(await allow.and(focused(page)).count()).toBe(1)
  })

  it('refuses to be framed: Chromium blocks the login page in an iframe on frame-ancestors', async () => {
    const page = await newPage()
    await page.goto(app.url)
    await page.getByRole('button', { name: 'Sign in' }).waitFor()
    const loginUrl = page.url()

    const messages: string[] = []
    page.on('console', (message) => messages.push(message.text()))
    const framedResponse = page.waitForResponse(loginUrl)
    await page.goto(`${app.url}/frame?src=${encodeURIComponent(loginUrl)}`, { waitUntil: 'load' })

    // The server did answer the framed request with the login page (the interaction cookie is
    // sent: both origins are on 127.0.0.1, so same-site); it is the browser that refuses it.
    const response = await framedResponse
    expect(response.status()).toBe(200)
    expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'")

    // The page's load event waits for both frames. The control frame shows its form, so a
    // missing form in the other one means Chromium put its error page there instead.
    expect(await page.frameLocator('#control').locator('input[name=password]').count()).toBe(1)
    expect(await page.frameLocator('#login').locator('input[name=password]').count()).toBe(0)
    // X-Frame-Options: DENY alone would block it too; the console says which header did.
    await expect.poll(() => messages.join('\n'), { timeout: 5_000 }).toMatch(/frame-ancestors 'none'/)
  })

  it('goes straight back to the client on a second visit: the session and the consent are remembered', async () => {
    const carol = await newUser('carol')
    const page = await newPage()
    await page.goto(app.url)
    await signIn(page, carol)
    await page.getByRole('button', { name: 'Allow' }).click()
    expect((await resultOf(page)).sub).toBe(carol.id)

    const visited: string[] = []
    page.on('request', (request) => {
      if (request.isNavigationRequest()) visited.push(request.url())
    })
    await page.goto(app.url)
    await page.waitForURL(`${app.url}/callback?**`)
    expect(await resultOf(page)).toEqual({ sub: carol.id, scopes: [...SCOPES].sort() })
    expect(visited.map((url) => new URL(url).pathname)).toEqual(['/', new URL(`${ts.baseUrl}/oauth2/authorize`).pathname, '/callback'])
  })

  it('answers access_denied with the state at the callback when the user clicks Deny', async () => {
    const dave = await newUser('dave')
    const page = await newPage()
    await page.goto(app.url)
    await signIn(page, dave)
    await page.getByRole('button', { name: 'Deny' }).click()
    await page.waitForURL(`${app.url}/callback?**`)

    const callback = new URL(page.url())
    expect(callback.searchParams.get('error')).toBe('access_denied')
    expect(callback.searchParams.get('state')).toBe(app.states.at(-1))
    expect(callback.searchParams.has('code')).toBe(false)
    expect(await page.locator('#error').innerText()).toBe('access_denied')
  })
})
