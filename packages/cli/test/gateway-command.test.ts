import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const BIN = resolve(import.meta.dirname, '../bin/meshguard.js')

/** `meshguard gateway` as an operator runs it: a YAML file, SIGHUP to reload it, SIGTERM to stop. */
describe('meshguard gateway', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshguard-gateway-cli-'))
  const configFile = join(dir, 'gateway.yaml')
  let upstream: Server
  let upstreamUrl = ''
  let gateway: ChildProcess
  let url = ''
  let output = ''

  const config = (routes: string) => `
listen: { host: 127.0.0.1, port: 0 }
issuer: http://127.0.0.1:9
log: { level: warn }
upstreams:
  echo:
    instances: ["${upstreamUrl}"]
routes:
${routes}
`
  const route = (name: string, prefix: string) => `  - { name: ${name}, match: { pathPrefix: ${prefix} }, upstream: echo, policy: public }\n`

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      res.end(`upstream saw ${req.url ?? ''}`)
    })
    await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done))
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    writeFileSync(configFile, config(route('first', '/first')))
    gateway = spawn(process.execPath, [BIN, 'gateway', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] })
    gateway.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    url = await new Promise<string>((done, fail) => {
      gateway.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const match = /gateway listening on (http:\/\/\S+);/.exec(output)
        if (match) done(match[1]!)
      })
      gateway.once('exit', (code) => {
        fail(new Error(`meshguard gateway exited with ${String(code)}: ${output}`))
      })
    })
  })
  afterAll(() => {
    gateway.kill('SIGKILL')
    upstream.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`)
    return { status: response.status, body: await response.text() }
  }

  it('routes to the upstream of its configuration', async () => {
    expect(await get('/first/a')).toEqual({ status: 200, body: 'upstream saw /first/a' })
    expect((await get('/second/a')).status).toBe(404)
  })

  it('reloads on SIGHUP, and keeps its configuration when the new one is invalid', async () => {
    writeFileSync(configFile, config(route('first', '/first') + route('second', '/second')))
    gateway.kill('SIGHUP')
    await expect.poll(async () => (await get('/second/a')).status, { timeout: 5_000 }).toBe(200)

    writeFileSync(configFile, config(`  - { name: broken, match: { pathPrefix: nope }, upstream: missing }\n`))
    gateway.kill('SIGHUP')
    await expect.poll(() => output, { timeout: 5_000 }).toMatch(/not reloaded/)
    expect(await get('/second/a')).toEqual({ status: 200, body: 'upstream saw /second/a' })
  })

  it('drains and exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((done) => gateway.once('exit', done))
    gateway.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
