import { statSync } from 'node:fs'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerUser } from '../src/admin/users.js'
import type { ScryptParams } from '../src/crypto/password-hash.js'
import { encodeAccessToken, type AccessTokenClaims } from '../src/index.js'
import { artifactPath, launchChromium } from './helpers/chromium.js'
import { basic, postForm, startTestServer, type TestServer } from './helpers/test-server.js'

/** Cheap scrypt parameters: these tests are about the browser, not the hash. */
const FAST_SCRYPT: ScryptParams = { N: 1024, r: 8, p: 1 }
const PASSWORD = 'correct horse battery staple'
const BROWSER_TIMEOUT_MS = 60_000
/** `--deny` and `--allow` of console.css, as Chromium computes them. */
const RED = 'rgb(197, 34, 31)'
const GREEN = 'rgb(19, 115, 51)'

/** The page's window as these tests touch it; the tests are compiled without the DOM library. */
interface PageWindow {
  getComputedStyle(element: unknown): { stroke: string }
  marker?: string
}

describe('the console in a real browser', { timeout: BROWSER_TIMEOUT_MS }, () => {
  let ts: TestServer
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let ordersSecret: string
  /** What the page logged as errors, Content-Security-Policy violations included. */
  const problems: string[] = []

  function report(decision: 'allow' | 'deny', reason: string | null) {
    return fetch(`${ts.baseUrl}/audit/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic('orders', ordersSecret) },
      body: JSON.stringify({ events: [{ ts: ts.clock.now(), decision, service: 'orders', caller: 'gateway', subject: 'alice', act: null, method: 'POST', path: '/orders', reason }] }),
    })
  }

  beforeAll(async () => {
    ts = await startTestServer()
    await ts.resource('orders', ['orders.read'])
    await ts.resource('payments', ['payments.write'])
    ordersSecret = (await ts.client({ id: 'orders', scopes: ['payments.write'] }))!
    await ts.client({ id: 'gateway', scopes: ['orders.read'] })
    await registerUser(ts.server.context.store, { username: 'root', password: PASSWORD, admin: true }, Math.floor(ts.clock.now() / 1000), FAST_SCRYPT)
    expect((await report('allow', null)).status).toBe(202)
    browser = await launchChromium()
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await context.newPage()
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text())
    })
    page.on('pageerror', (error) => problems.push(error.message))
  }, BROWSER_TIMEOUT_MS)

  afterAll(async () => {
    await context.close()
    await browser.close()
    await ts.stop()
    ts.cleanup()
  })

  it('signs an administrator in through the form', async () => {
    await page.goto(`${ts.baseUrl}/console`)
    await page.getByLabel('Username').fill('root')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Live map' }).waitFor()
    expect(new URL(page.url()).pathname).toBe('/console')
    expect(await page.getByText('Signed in as root').count()).toBe(1)
  })

  it('turns an edge of the live map red when its service reports a refusal, without reloading', async () => {
    const edge = page.locator('#map-svg g.edge[data-from="gateway"][data-to="orders"]')
    await edge.waitFor()
    await page.locator('#map[data-live="true"]').waitFor()
    expect(await edge.getAttribute('class')).toBe('edge allow')
    expect(await edge.locator('path').evaluate((path) => (globalThis as unknown as PageWindow).getComputedStyle(path).stroke)).toBe(GREEN)
    expect(await page.locator('#map-svg g.node[data-node="orders"]').getAttribute('aria-label')).toBe('resource server orders')

    let navigations = 0
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1
    })
    await page.evaluate(() => {
      ;(globalThis as unknown as PageWindow).marker = 'set before the report'
    })
    expect((await report('deny', 'insufficient_scope')).status).toBe(202)

    await page.locator('#map-svg g.edge.deny[data-from="gateway"][data-to="orders"]').waitFor({ timeout: 5000 })
    expect(await edge.locator('path').evaluate((path) => (globalThis as unknown as PageWindow).getComputedStyle(path).stroke)).toBe(RED)
    expect(await edge.getAttribute('aria-label')).toBe('gateway → orders: 1 allowed, 1 refused; latest refused: insufficient_scope')
    expect(await edge.locator('title').textContent()).toBe('gateway → orders: 1 allowed, 1 refused; latest refused: insufficient_scope')
    expect(await page.locator('#map-table tbody tr').first().innerText()).toMatch(/^gateway\torders\t1\t1\trefused\tinsufficient_scope$/)
    expect(await page.evaluate(() => (globalThis as unknown as PageWindow).marker)).toBe('set before the report')
    expect(navigations).toBe(0)

    const screenshot = artifactPath('console-map.png')
    await page.screenshot({ path: screenshot, fullPage: true })
    expect(statSync(screenshot).size).toBeGreaterThan(0)
  })

  it('inspects a pasted token: claims, "signature verified", expiry in words, the act chain', async () => {
    const issued = (await postForm(ts.tokenEndpoint, { grant_type: 'client_credentials' }, { authorization: basic('orders', ordersSecret) })).body.access_token as string
    // As token exchange would make it: alice's token, passed by the gateway to orders.
    const issuedClaims = JSON.parse(Buffer.from(issued.split('.')[1]!, 'base64url').toString()) as AccessTokenClaims
    const token = encodeAccessToken({ ...issuedClaims, sub: 'alice', act: { sub: 'orders', act: { sub: 'gateway' } } }, ts.server.context.keys.signer())
    await page.getByRole('link', { name: 'Token inspector' }).click()
    await page.getByLabel('Token', { exact: true }).fill(token)
    await page.getByRole('button', { name: 'Inspect' }).click()

    const kid = ts.server.context.keys.signer().kid
    await page.locator('#inspect-signature').waitFor()
    expect(await page.locator('#inspect-signature').innerText()).toBe(`signature verified with key "${kid}" (ES256)`)
    expect(await page.locator('#inspect-status').innerText()).toBe('active: valid now and not revoked')
    expect(await page.locator('#inspect-expiry').innerText()).toMatch(/^expires in 10 minutes \(/)
    const claims = JSON.parse(await page.locator('#inspect-claims').innerText()) as Record<string, unknown>
    expect(claims).toMatchObject({ iss: ts.issuer, sub: 'alice', client_id: 'orders', scope: 'payments.write', aud: 'payments', act: { sub: 'orders', act: { sub: 'gateway' } } })
    expect(JSON.parse(await page.locator('#inspect-header').innerText())).toStrictEqual({ alg: 'ES256', typ: 'at+jwt', kid })
    const chain = page.getByRole('list', { name: 'Delegation, from the subject to the current actor' })
    expect(await chain.locator('li .actor').allInnerTexts()).toStrictEqual(['alice\nsubject', 'gateway\nactor', 'orders\ncurrent actor'])

    const screenshot = artifactPath('console-inspector.png')
    await page.screenshot({ path: screenshot, fullPage: true })
    expect(statSync(screenshot).size).toBeGreaterThan(0)
  })

  it('ran without a script error or a CSP violation', () => {
    expect(problems).toStrictEqual([])
  })

  it('shows a registration error from the same rules as the CLI', async () => {
    await page.getByRole('link', { name: 'Clients' }).click()
    const form = page.locator('#client-form')
    await form.getByLabel('Client id', { exact: true }).fill('bad-web')
    await form.getByLabel('Type', { exact: true }).selectOption('web')
    await form.getByLabel('Scopes (space-separated)', { exact: true }).fill('openid')
    await form.getByLabel('Redirect URIs (one per line)', { exact: true }).fill('http://app.example/callback#fragment')
    await form.getByRole('button', { name: 'Register' }).click()
    const error = page.locator('#clients-error')
    await error.waitFor()
    expect(await error.innerText()).toMatch(/^redirect URI "http:\/\/app\.example\/callback#fragment" /)
    expect(problems).toStrictEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)'])
  })
})
