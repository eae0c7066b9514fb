import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { systemClock } from '../clock.js'
import { openStore } from '../store/open-store.js'
import type { ClientRecord, Store } from '../store/store.js'
import { Directory } from './directory.js'

const client = (id: string): ClientRecord => ({ id, type: 'service', redirectUris: [], postLogoutRedirectUris: [], secretHash: null, jwks: null, tlsClientAuthSanUri: null, grantTypes: ['client_credentials'], scopes: ['a.read'], mayAct: null, tokenFormat: 'jwt', phantomTokens: false, createdAt: 1 })

describe('Directory', () => {
  let dataDir: string
  let store: Store
  let monotonic: number
  let directory: Directory

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'meshguard-directory-'))
    store = await openStore({ dataDir })
    monotonic = 0
    directory = new Directory({ store, clock: systemClock, refreshIntervalSec: 1, maxStaleSec: 10, monotonicNow: () => monotonic })
    await store.createResourceServer({ id: 'api', scopes: ['a.read'], createdAt: 1 })
    await store.createClient(client('known'))
    await directory.refresh()
  })
  afterEach(async () => {
    await store.close().catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('answers from memory, and falls through to the store on a miss', async () => {
    expect(await directory.getClient('known')).toMatchObject({ id: 'known' })
    await store.createClient(client('new'))
    expect(await directory.getClient('new')).toMatchObject({ id: 'new' })
    expect(await directory.getClient('ghost')).toBeUndefined()
    expect(await directory.resolveScopes(['a.read', 'x.read'])).toEqual(new Map([['a.read', 'api']]))
    expect(await directory.unknownResourceServers(['api', 'other'])).toEqual(['other'])
  })

  it('sees a deletion at the next refresh', async () => {
    await store.deleteClient('known')
    expect(await directory.getClient('known')).toMatchObject({ id: 'known' })
    await directory.refresh()
    expect(await directory.getClient('known')).toBeUndefined()
  })

  it('sees revocations stored elsewhere at the next refresh, and its own at once', async () => {
    const now = Math.floor(Date.now() / 1000)
    await store.revokeToken({ jti: 'elsewhere', clientId: 'known', expiresAt: now + 600, revokedAt: now })
    expect(await directory.isRevoked('elsewhere')).toBe(false)
    await directory.refresh()
    expect(await directory.isRevoked('elsewhere')).toBe(true)
    // Stored later but stamped earlier than one already seen (another instance's clock).
    await store.revokeToken({ jti: 'late', clientId: 'known', expiresAt: now + 600, revokedAt: now - 30 })
    await directory.refresh()
    expect(await directory.isRevoked('late')).toBe(true)
    directory.noteRevoked('here', now + 600)
    expect(await directory.isRevoked('here')).toBe(true)
  })

  it('fails closed: once the snapshot is stale, lookups go to the store and fail with it', async () => {
    await store.close()
    await expect(directory.refresh()).rejects.toThrow()
    expect(await directory.getClient('known')).toMatchObject({ id: 'known' })
    monotonic += 10_001
    await expect(directory.getClient('known')).rejects.toThrow()
    await expect(directory.isRevoked('anything')).rejects.toThrow()
    await expect(directory.resolveScopes(['a.read'])).rejects.toThrow()
  })
})
