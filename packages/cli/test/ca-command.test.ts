import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const BIN = resolve(import.meta.dirname, '../bin/meshguard.js')
const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
    })
  })
}

function post(url: string, bundle: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((done, fail) => {
    const req = request(url, { method: 'POST', ca: bundle, servername: 'localhost', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk.toString()))
      res.on('end', () => {
        done({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> })
      })
    })
    req.on('error', fail)
    req.end(JSON.stringify(body))
  })
}

function get(url: string, bundle: string): Promise<string> {
  return new Promise((done, fail) => {
    request(url, { ca: bundle, servername: 'localhost', agent: false }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk.toString()))
      res.on('end', () => {
        done(text)
      })
    })
      .on('error', fail)
      .end()
  })
}

/** `meshguard ca` and `meshguard cert` as an operator runs them, beside a running `meshguard ca serve`. */
describe('meshguard ca and cert', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshguard-ca-cli-'))
  const scratch = mkdtempSync(join(tmpdir(), 'meshguard-ca-cli-files-'))
  const meshguard = (...args: string[]) => run(process.execPath, [BIN, ...args, '--data-dir', dataDir])
  const file = (name: string) => join(scratch, name)
  let server: ChildProcess
  let url = ''
  let bundle = ''

  beforeAll(async () => {
    const init = await meshguard('ca', 'init', '--trust-domain', 'example.org')
    expect(init).toMatchObject({ code: 0, stdout: expect.stringContaining('created the CA for spiffe://example.org') as unknown })
    bundle = readFileSync(join(dataDir, 'ca', 'bundle.pem'), 'utf8')
    server = spawn(process.execPath, [BIN, 'ca', 'serve', '--data-dir', dataDir, '--port', '0', '--crl-refresh', '1'], { stdio: ['ignore', 'pipe', 'inherit'] })
    url = await new Promise<string>((done, fail) => {
      let out = ''
      server.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const match = /CA serving on (https:\/\/\S+) as spiffe:\/\/example\.org\/meshguard\/ca/.exec(out)
        if (match) done(match[1]!)
      })
      server.once('exit', (code) => {
        fail(new Error(`meshguard ca serve exited with ${String(code)}`))
      })
    })
  })
  afterAll(() => {
    server.kill('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(scratch, { recursive: true, force: true })
  })

  it('refuses a second init', async () => {
    expect(await meshguard('ca', 'init', '--trust-domain', 'example.org')).toMatchObject({ code: 1, stderr: expect.stringMatching(/already holds a CA/) as unknown })
  })

  it('prints the trust bundle', async () => {
    expect((await meshguard('ca', 'bundle')).stdout).toBe(bundle)
  })

  it('makes a join token that the running server redeems once for an openssl CSR', async () => {
    const made = await meshguard('ca', 'join-token', '--id', ORDERS)
    expect(made.code).toBe(0)
    const token = made.stdout.trim()
    expect(token).toMatch(/^mgjoin_[A-Za-z0-9_-]{43}$/)
    const until = /, once, until (\S+Z)/.exec(made.stderr)
    expect(made.stderr).toMatch(/^for spiffe:\/\/example\.org\/ns\/shop\/sa\/orders, once, until /)
    expect(Date.parse(until![1]!) - Date.now()).toBeGreaterThan(3_590_000)
    expect(Date.parse(until![1]!) - Date.now()).toBeLessThanOrEqual(3_600_000)
    await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('orders.key'), '-out', file('orders.csr'), '-subj', '/O=orders', '-addext', `subjectAltName=URI:${ORDERS}`])
    const csr = readFileSync(file('orders.csr'), 'utf8')
    const first = await post(`${url}/v1/join`, bundle, { token, csr })
    expect(first).toMatchObject({ status: 200, body: { spiffe_id: ORDERS } })
    expect(await post(`${url}/v1/join`, bundle, { token, csr })).toMatchObject({ status: 401, body: { error: 'ERR_JOIN_TOKEN' } })
  })

  it('issues offline, and cert inspect describes the result and checks its chain', async () => {
    const issued = await meshguard('ca', 'issue', '--id', ORDERS, '--dns', 'orders.shop.svc', '--cert', file('offline.pem'), '--key', file('offline.key'), '--ttl', '7200')
    expect(issued).toMatchObject({ code: 0, stdout: expect.stringMatching(/^issued [0-9a-f]{32} for spiffe:\/\/example\.org\/ns\/shop\/sa\/orders/) as unknown })
    writeFileSync(file('bundle.pem'), bundle)
    const inspected = await run(process.execPath, [BIN, 'cert', 'inspect', file('offline.pem'), '--bundle', file('bundle.pem')])
    expect(inspected.code).toBe(0)
    expect(inspected.stdout).toContain(`identity:   ${ORDERS}`)
    expect(inspected.stdout).toContain('dns:        orders.shop.svc')
    expect(inspected.stdout).toMatch(/validity: {3}valid, expires in (1 hour|2 hours)/)
    expect(inspected.stdout).toMatch(/chain: {6}ok: through 1 intermediate to CN=Meshguard Root CA/)
    expect(inspected.stdout).toContain('kind:       leaf')
    // openssl agrees, and the key written is the one certified.
    expect((await run('openssl', ['verify', '-CAfile', file('bundle.pem'), '-untrusted', file('offline.pem'), file('offline.pem')])).stdout).toMatch(/OK/)
    const fromKey = await run('openssl', ['pkey', '-in', file('offline.key'), '-pubout'])
    const fromCert = await run('openssl', ['x509', '-in', file('offline.pem'), '-noout', '-pubkey'])
    expect(fromKey.stdout).toBe(fromCert.stdout)
  })

  it('cert inspect says when a chain does not lead to the bundle', async () => {
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('self.key'), '-out', file('self.pem'), '-subj', '/O=self', '-days', '1', '-addext', `subjectAltName=URI:${ORDERS}`])
    const inspected = await run(process.execPath, [BIN, 'cert', 'inspect', file('self.pem'), '--bundle', file('bundle.pem')])
    expect(inspected.stdout).toMatch(/chain: {6}broken: the leaf is not signed by the next certificate or a root of the bundle/)
  })

  it('revokes a certificate, and the running server publishes it in its CRL', async () => {
    const issued = await meshguard('ca', 'issue', '--id', ORDERS, '--cert', file('revoked.pem'), '--key', file('revoked.key'))
    const serial = /^issued ([0-9a-f]+)/.exec(issued.stdout)![1]!
    expect(await meshguard('ca', 'revoke', serial, '--reason', 'keyCompromise')).toMatchObject({ code: 0, stdout: expect.stringContaining(`revoked ${serial}`) as unknown })
    writeFileSync(file('crl.pem'), '')
    await expect
      .poll(
        async () => {
          writeFileSync(file('crl.pem'), await get(`${url}/v1/crl`, bundle))
          return (await run('openssl', ['crl', '-in', file('crl.pem'), '-noout', '-text'])).stdout
        },
        { timeout: 5_000 },
      )
      .toContain(serial.toUpperCase())
    expect(await meshguard('ca', 'revoke', serial)).toMatchObject({ code: 1, stderr: expect.stringMatching(/no unrevoked certificate/) as unknown })
  })
})
