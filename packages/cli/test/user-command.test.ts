import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createUserAuthenticator, openStore, systemClock, type LoginOutcome } from '@meshguard/auth-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const BIN = resolve(import.meta.dirname, '../bin/meshguard.js')

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the binary with `stdin` piped in, and no password in the environment unless given. */
function meshguard(args: string[], { stdin = '', env = {} }: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((done) => {
    const inherited = { ...process.env }
    delete inherited.MESHGUARD_USER_PASSWORD
    const child = execFile(process.execPath, [BIN, ...args], { env: { ...inherited, ...env } }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
    })
    child.stdin!.end(stdin)
  })
}

describe('meshguard user', () => {
  let dataDir: string
  const state = () => ['--data-dir', dataDir]

  async function signIn(username: string, password: string): Promise<LoginOutcome> {
    const store = await openStore({ dataDir })
    try {
      return await createUserAuthenticator({ store, clock: systemClock, audit: { record: () => undefined } }).authenticateUser({ username, password, ip: '192.0.2.1' })
    } finally {
      await store.close()
    }
  }

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'meshguard-user-'))
  })
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('creates a user from a password on stdin, and another from the environment', async () => {
    const alice = await meshguard(['user', 'create', ...state(), '--username', 'Alice', '--name', 'Alice Liddell', '--email', 'alice@example.com', '--password-stdin', '--json'], {
      stdin: 'through the looking glass\n',
    })
    expect(alice).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(alice.stdout)).toMatchObject({ username: 'alice', name: 'Alice Liddell', email: 'alice@example.com', sub: expect.stringMatching(/^[0-9a-f-]{36}$/) })

    const bob = await meshguard(['user', 'create', ...state(), '--username', 'bob'], { env: { MESHGUARD_USER_PASSWORD: 'a builder of things' } })
    expect(bob).toMatchObject({ code: 0, stderr: '', stdout: expect.stringMatching(/^created user bob \(subject [0-9a-f-]{36}\)\n$/) })

    expect(await signIn('ALICE', 'through the looking glass')).toMatchObject({ ok: true, user: { username: 'alice' } })
    expect(await signIn('bob', 'a builder of things')).toMatchObject({ ok: true })
  })

  it.each([
    ['no password source', ['--username', 'carol'], {}, 'give the password on stdin with --password-stdin, or in $MESHGUARD_USER_PASSWORD'],
    ['a short password', ['--username', 'carol', '--password-stdin'], { stdin: 'short\n' }, 'password must be at least 12 characters'],
    ['the username as password', ['--username', 'carol.lewis.dodgson'], { env: { MESHGUARD_USER_PASSWORD: 'Carol.Lewis.Dodgson' } }, 'password must not be the username'],
    ['a taken username', ['--username', 'ALICE', '--password-stdin'], { stdin: 'another long password' }, 'user "alice" already exists'],
    ['a bad username', ['--username', 'carol lewis', '--password-stdin'], { stdin: 'another long password' }, 'username "carol lewis" must be'],
  ])('refuses %s', async (_, args, io, message) => {
    const run = await meshguard(['user', 'create', ...state(), ...args], io)
    expect(run).toMatchObject({ code: 1, stdout: '' })
    expect(run.stderr).toContain(`meshguard: `)
    expect(run.stderr).toContain(message)
  })

  it('lists users without password hashes', async () => {
    const json = await meshguard(['user', 'list', ...state(), '--json'])
    expect(json.code).toBe(0)
    expect(json.stdout).not.toContain('scrypt')
    expect((JSON.parse(json.stdout) as Array<{ username: string }>).map((u) => u.username)).toStrictEqual(['alice', 'bob'])
    const table = await meshguard(['user', 'list', ...state()])
    expect(table.stdout).toMatch(/^alice\t[0-9a-f-]{36}\tAlice Liddell\talice@example\.com\nbob\t[0-9a-f-]{36}\t-\t-\n$/)
  })

  it('changes a password under the same rules', async () => {
    const weak = await meshguard(['user', 'passwd', 'bob', ...state()], { env: { MESHGUARD_USER_PASSWORD: 'BOB' } })
    expect(weak).toMatchObject({ code: 1, stderr: 'meshguard: password must be at least 12 characters; password must not be the username\n' })
    const unknown = await meshguard(['user', 'passwd', 'nobody', ...state(), '--password-stdin'], { stdin: 'a perfectly long one' })
    expect(unknown).toMatchObject({ code: 1, stderr: 'meshguard: no user "nobody"\n' })
    const changed = await meshguard(['user', 'passwd', 'Bob', ...state(), '--password-stdin'], { stdin: 'a new builder of things\r\n' })
    expect(changed).toMatchObject({ code: 0, stdout: 'changed the password of Bob\n' })
    expect(await signIn('bob', 'a builder of things')).toStrictEqual({ ok: false, error: 'ERR_LOGIN_FAILED' })
    expect(await signIn('bob', 'a new builder of things')).toMatchObject({ ok: true })
  })

  it('deletes a user', async () => {
    expect(await meshguard(['user', 'delete', 'BOB', ...state()])).toMatchObject({ code: 0, stdout: 'deleted user BOB\n' })
    expect(await meshguard(['user', 'delete', 'bob', ...state()])).toMatchObject({ code: 1, stderr: 'meshguard: no user "bob"\n' })
    expect(JSON.parse((await meshguard(['user', 'list', ...state(), '--json'])).stdout)).toMatchObject([{ username: 'alice' }])
  })
})
