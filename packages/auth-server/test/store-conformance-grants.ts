import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type {
  AuthorizationCodeRecord,
  GrantAccessToken,
  GrantRecord,
  InteractionRecord,
  RefreshTokenRecord,
  SessionRecord,
  Store,
  UserRecord,
} from '../src/store/store.js'

const NOW = 1_700_000_000
const DAY = 86_400

function interaction(idHash: string, overrides: Partial<InteractionRecord> = {}): InteractionRecord {
  return {
    idHash,
    csrfToken: `csrf-${idHash}`,
    clientId: 'web',
    request: {
      responseType: 'code',
      redirectUri: 'https://app.example/callback',
      scopes: ['openid', 'orders:read'],
      state: 'af0ifjsldkj',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      maxAge: null,
    },
    userId: null,
    authTime: null,
    createdAt: NOW,
    expiresAt: NOW + 600,
    ...overrides,
  }
}

function session(idHash: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return { idHash, userId: 'id-alice', authTime: NOW - 30, csrfToken: `csrf-${idHash}`, createdAt: NOW, expiresAt: NOW + DAY, ...overrides }
}

function grant(id: string, overrides: Partial<GrantRecord> = {}): GrantRecord {
  return {
    id,
    clientId: 'web',
    userId: 'id-alice',
    scopes: ['openid', 'offline_access', 'orders:read'],
    audience: ['https://orders.internal'],
    sessionIdHash: 's1',
    authTime: NOW - 30,
    createdAt: NOW,
    expiresAt: NOW + 30 * DAY,
    revokedAt: null,
    ...overrides,
  }
}

function code(codeHash: string, grantId: string, overrides: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord {
  return {
    codeHash,
    grantId,
    clientId: 'web',
    redirectUri: 'https://app.example/callback',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    nonce: 'n-0S6_WzA2Mj',
    createdAt: NOW,
    expiresAt: NOW + 60,
    consumedAt: null,
    ...overrides,
  }
}

function refreshToken(tokenHash: string, grantId: string, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return { tokenHash, grantId, clientId: 'web', createdAt: NOW, expiresAt: NOW + DAY, rotatedAt: null, ...overrides }
}

function accessToken(jti: string, expiresAt = NOW + 300): GrantAccessToken {
  return { jti, expiresAt }
}

function user(username: string): UserRecord {
  return { id: `id-${username}`, username, passwordHash: 'scrypt$hash', name: null, email: null, createdAt: NOW, updatedAt: NOW, admin: false }
}

function conflict(fragment: string): unknown {
  return expect.objectContaining({ code: 'ERR_STORE_CONFLICT', message: expect.stringContaining(fragment) })
}

/**
 * What every {@link Store} backend must do for end users' authorizations: interactions,
 * sessions, consents, and grants with their codes and tokens. `open` and `reset` as for
 * `storeConformance`.
 */
export function storeGrantsConformance(name: string, open: () => Promise<Store>, reset: () => Promise<void>): void {
  describe(`${name} store conformance: end-user grants`, () => {
    const opened: Store[] = []
    let store: Store
    const connect = async (): Promise<Store> => {
      const connection = await open()
      opened.push(connection)
      return connection
    }

    beforeEach(async () => {
      await reset()
      store = await connect()
    })
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((connection) => connection.close()))
    })

    /** A grant with its code, its first access token and, unless `refresh` is false, its first refresh token. */
    const issued = async (id: string, overrides: Partial<GrantRecord> = {}, refresh = true): Promise<void> => {
      await store.createGrantWithCode(grant(id, overrides), code(`code-${id}`, id))
      const first = refresh ? refreshToken(`rt-${id}`, id) : undefined
      expect(await store.recordGrantTokens(id, NOW, accessToken(`at-${id}`), first)).toBe(true)
    }

    describe('interactions and sessions', () => {
      it('round-trips an interaction, records who signed in, and ends it once', async () => {
        await store.createInteraction(interaction('i1'))
        expect(await store.getInteraction('i1', NOW)).toStrictEqual(interaction('i1'))
        expect(await store.getInteraction('csrf-i1', NOW)).toBeUndefined()
        expect(await store.setInteractionUser('i1', 'id-alice', NOW + 20)).toBe(true)
        expect(await store.setInteractionUser('missing', 'id-alice', NOW + 20)).toBe(false)
        expect(await store.getInteraction('i1', NOW + 21)).toStrictEqual(interaction('i1', { userId: 'id-alice', authTime: NOW + 20 }))
        expect(await store.deleteInteraction('i1')).toBe(true)
        expect(await store.deleteInteraction('i1')).toBe(false)
        expect(await store.getInteraction('i1', NOW)).toBeUndefined()
        expect(await store.setInteractionUser('i1', 'id-alice', NOW + 30)).toBe(false)
      })

      it('round-trips a session and deletes it once', async () => {
        await store.createSession(session('s1'))
        expect(await store.getSession('s1', NOW)).toStrictEqual(session('s1'))
        expect(await store.getSession('missing', NOW)).toBeUndefined()
        expect(await store.deleteSession('s1')).toBe(true)
        expect(await store.deleteSession('s1')).toBe(false)
        expect(await store.getSession('s1', NOW)).toBeUndefined()
      })

      it('hides an interaction and a session from their expiry on', async () => {
        await store.createInteraction(interaction('i1'))
        await store.createSession(session('s1'))
        expect(await store.getInteraction('i1', NOW + 599)).toStrictEqual(interaction('i1'))
        expect(await store.getInteraction('i1', NOW + 600)).toBeUndefined()
        expect(await store.getSession('s1', NOW + DAY - 1)).toStrictEqual(session('s1'))
        expect(await store.getSession('s1', NOW + DAY)).toBeUndefined()
      })

      it('rejects a duplicate interaction or session hash and keeps the first', async () => {
        await store.createInteraction(interaction('i1'))
        await store.createSession(session('s1'))
        await expect(store.createInteraction(interaction('i1', { clientId: 'rival' }))).rejects.toEqual(conflict('"i1"'))
        await expect(store.createSession(session('s1', { userId: 'id-mallory' }))).rejects.toEqual(conflict('"s1"'))
        expect(await store.getInteraction('i1', NOW)).toStrictEqual(interaction('i1'))
        expect(await store.getSession('s1', NOW)).toStrictEqual(session('s1'))
      })
    })

    describe('consents', () => {
      it('saves a consent per user and client, and replaces it', async () => {
        const first = { userId: 'id-alice', clientId: 'web', scopes: ['openid'], updatedAt: NOW }
        const wider = { ...first, scopes: ['openid', 'orders:read'], updatedAt: NOW + 60 }
        const other = { ...first, clientId: 'spa', scopes: ['profile'] }
        expect(await store.getConsent('id-alice', 'web')).toBeUndefined()
        await store.saveConsent(first)
        await store.saveConsent(other)
        expect(await store.getConsent('id-alice', 'web')).toStrictEqual(first)
        await store.saveConsent(wider)
        expect(await store.getConsent('id-alice', 'web')).toStrictEqual(wider)
        expect(await store.getConsent('id-alice', 'spa')).toStrictEqual(other)
        expect(await store.getConsent('id-bob', 'web')).toBeUndefined()
      })
    })

    describe('grants and authorization codes', () => {
      it('stores a grant with its code and lists the grants of a session', async () => {
        const offline = grant('g3', { sessionIdHash: null, createdAt: NOW + 2 })
        await store.createGrantWithCode(grant('g2', { createdAt: NOW + 1, scopes: ['openid'], audience: [] }), code('c2', 'g2'))
        await store.createGrantWithCode(grant('g1'), code('c1', 'g1', { codeChallenge: null, nonce: null }))
        await store.createGrantWithCode(offline, code('c3', 'g3'))
        expect(await store.getGrant('g1')).toStrictEqual(grant('g1'))
        expect(await store.getGrant('g3')).toStrictEqual(offline)
        expect(await store.getGrant('missing')).toBeUndefined()
        expect(await store.getAuthorizationCode('c1')).toStrictEqual(code('c1', 'g1', { codeChallenge: null, nonce: null }))
        expect(await store.getAuthorizationCode('c2')).toStrictEqual(code('c2', 'g2'))
        expect(await store.getAuthorizationCode('missing')).toBeUndefined()
        expect(await store.listSessionGrants('s1')).toStrictEqual(['g1', 'g2'])
        expect(await store.listSessionGrants('s9')).toStrictEqual([])
      })

      it('stores neither the grant nor the code when either already exists', async () => {
        await store.createGrantWithCode(grant('g1'), code('c1', 'g1'))
        await expect(store.createGrantWithCode(grant('g2'), code('c1', 'g2'))).rejects.toEqual(conflict('"c1"'))
        expect(await store.getGrant('g2')).toBeUndefined()
        await expect(store.createGrantWithCode(grant('g1', { userId: 'id-mallory' }), code('c2', 'g1'))).rejects.toEqual(conflict('"g1"'))
        expect(await store.getAuthorizationCode('c2')).toBeUndefined()
        expect(await store.getGrant('g1')).toStrictEqual(grant('g1'))
        expect(await store.getAuthorizationCode('c1')).toStrictEqual(code('c1', 'g1'))
      })

      it('consumes a code once', async () => {
        await store.createGrantWithCode(grant('g1'), code('c1', 'g1'))
        expect(await store.consumeAuthorizationCode('c1', NOW + 5)).toBe(true)
        expect(await store.consumeAuthorizationCode('c1', NOW + 6)).toBe(false)
        expect(await store.consumeAuthorizationCode('missing', NOW + 5)).toBe(false)
        expect(await store.getAuthorizationCode('c1')).toStrictEqual(code('c1', 'g1', { consumedAt: NOW + 5 }))
      })

      it('consumes a code for exactly one of 20 concurrent redemptions through two connections', async () => {
        const other = await connect()
        await store.createGrantWithCode(grant('g1'), code('c1', 'g1'))
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).consumeAuthorizationCode('c1', NOW + i)),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
        expect(await store.getAuthorizationCode('c1')).toStrictEqual(code('c1', 'g1', { consumedAt: NOW + results.indexOf(true) }))
      })
    })

    describe('refresh tokens', () => {
      it('records the first tokens of a grant, with or without a refresh token', async () => {
        await issued('g1')
        await issued('g2', {}, false)
        expect(await store.getRefreshToken('rt-g1')).toStrictEqual(refreshToken('rt-g1', 'g1'))
        expect(await store.getRefreshToken('rt-g2')).toBeUndefined()
        expect(await store.getRefreshToken('missing')).toBeUndefined()
      })

      it('rotates a token once and stores nothing for its reuse', async () => {
        await issued('g1')
        const successor = refreshToken('rt-2', 'g1', { createdAt: NOW + 10, expiresAt: NOW + 10 + DAY })
        expect(await store.rotateRefreshToken('rt-g1', NOW + 10, successor, accessToken('at-2'))).toBe('rotated')
        expect(await store.getRefreshToken('rt-g1')).toStrictEqual(refreshToken('rt-g1', 'g1', { rotatedAt: NOW + 10 }))
        expect(await store.getRefreshToken('rt-2')).toStrictEqual(successor)
        expect(await store.rotateRefreshToken('rt-g1', NOW + 20, refreshToken('rt-3', 'g1'), accessToken('at-3'))).toBe('reused')
        expect(await store.getRefreshToken('rt-3')).toBeUndefined()
        expect(await store.getRefreshToken('rt-g1')).toStrictEqual(refreshToken('rt-g1', 'g1', { rotatedAt: NOW + 10 }))
        // The grant's access tokens are the first and the rotated one's, not the reuse's.
        expect((await store.revokeGrant('g1', NOW + 30)).map((r) => r.jti)).toStrictEqual(['at-2', 'at-g1'])
      })

      it('rotates exactly one of 20 concurrent rotations of one token', async () => {
        await issued('g1')
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.rotateRefreshToken('rt-g1', NOW + 10, refreshToken(`rt-${i}`, 'g1'), accessToken(`at-${i}`))),
        )
        expect(results.filter((result) => result === 'rotated')).toHaveLength(1)
        expect(results.filter((result) => result === 'reused')).toHaveLength(19)
        const stored = await Promise.all(results.map((_, i) => store.getRefreshToken(`rt-${i}`)))
        expect(stored.map((token) => token !== undefined)).toStrictEqual(results.map((result) => result === 'rotated'))
      })

      it('rejects a duplicate refresh token hash, storing nothing of the call', async () => {
        await issued('g1')
        await issued('g2')
        await expect(store.recordGrantTokens('g2', NOW, accessToken('at-dup'), refreshToken('rt-g1', 'g2'))).rejects.toEqual(conflict('"rt-g1"'))
        await expect(store.rotateRefreshToken('rt-g2', NOW + 10, refreshToken('rt-g1', 'g2'), accessToken('at-dup'))).rejects.toEqual(conflict('"rt-g1"'))
        expect(await store.getRefreshToken('rt-g1')).toStrictEqual(refreshToken('rt-g1', 'g1'))
        expect(await store.getRefreshToken('rt-g2')).toStrictEqual(refreshToken('rt-g2', 'g2'))
        expect((await store.revokeGrant('g2', NOW)).map((r) => r.jti)).toStrictEqual(['at-g2'])
      })
    })

    describe('revoking grants', () => {
      it('revokes a grant once, returning the revocations of its live access tokens', async () => {
        await issued('g1')
        await store.recordGrantTokens('g1', NOW, accessToken('at-short', NOW + 5), undefined)
        await store.recordGrantTokens('g1', NOW, accessToken('at-revoked'), undefined)
        await store.revokeToken({ jti: 'at-revoked', clientId: 'web', expiresAt: NOW + 300, revokedAt: NOW + 1 })
        const revocations = await store.revokeGrant('g1', NOW + 10)
        expect(revocations).toStrictEqual([{ jti: 'at-g1', clientId: 'web', expiresAt: NOW + 300, revokedAt: NOW + 10 }])
        expect(await store.isRevoked('at-g1')).toBe(true)
        expect(await store.isRevoked('at-short')).toBe(false)
        expect(await store.getGrant('g1')).toStrictEqual(grant('g1', { revokedAt: NOW + 10 }))
        expect(await store.revokeGrant('g1', NOW + 20)).toStrictEqual([])
        expect(await store.getGrant('g1')).toStrictEqual(grant('g1', { revokedAt: NOW + 10 }))
        expect(await store.revokeGrant('missing', NOW)).toStrictEqual([])
      })

      it('issues nothing more under a revoked, expired or unknown grant', async () => {
        await issued('g1')
        await issued('g2', { expiresAt: NOW + 100 })
        await store.revokeGrant('g1', NOW + 10)
        for (const [grantId, now] of [['g1', NOW + 11], ['g2', NOW + 100], ['missing', NOW]] as const) {
          expect(await store.recordGrantTokens(grantId, now, accessToken(`at-late-${grantId}`), refreshToken(`rt-late-${grantId}`, grantId))).toBe(false)
          expect(await store.getRefreshToken(`rt-late-${grantId}`)).toBeUndefined()
        }
        expect(await store.rotateRefreshToken('rt-g1', NOW + 11, refreshToken('rt-next-1', 'g1'), accessToken('at-next-1'))).toBe('grant_revoked')
        expect(await store.rotateRefreshToken('rt-g2', NOW + 100, refreshToken('rt-next-2', 'g2'), accessToken('at-next-2'))).toBe('grant_revoked')
        expect(await store.rotateRefreshToken('missing', NOW, refreshToken('rt-next-3', 'g2'), accessToken('at-next-3'))).toBe('grant_revoked')
        for (const hash of ['rt-next-1', 'rt-next-2', 'rt-next-3']) expect(await store.getRefreshToken(hash)).toBeUndefined()
        expect(await store.getRefreshToken('rt-g1')).toStrictEqual(refreshToken('rt-g1', 'g1'))
        // Revoking g2 shows that the late attempt recorded no access token.
        expect((await store.revokeGrant('g2', NOW + 99)).map((r) => r.jti)).toStrictEqual(['at-g2'])
      })

      it('revokes every access token recorded by 20 issuers racing the revocation', async () => {
        await issued('g1')
        const race = Array.from({ length: 20 }, (_, i) => store.recordGrantTokens('g1', NOW, accessToken(`at-${i}`), refreshToken(`rt-${i}`, 'g1')))
        const revocation = store.revokeGrant('g1', NOW + 1)
        const recorded = await Promise.all(race)
        const revoked = (await revocation).map((r) => r.jti)
        const issuedJtis = recorded.flatMap((ok, i) => (ok ? [`at-${i}`] : []))
        expect(revoked.sort()).toStrictEqual(['at-g1', ...issuedJtis].sort())
        for (const [i, ok] of recorded.entries()) {
          expect(await store.isRevoked(`at-${i}`)).toBe(ok)
          expect((await store.getRefreshToken(`rt-${i}`)) !== undefined).toBe(ok)
        }
      })
    })

    describe('deleting a user', () => {
      it("deletes the user's sessions and consents and revokes their grants and access tokens, leaving others' alone", async () => {
        for (const username of ['alice', 'bob']) {
          await store.createUser(user(username))
          await store.createSession(session(`s-${username}`, { userId: `id-${username}` }))
          await store.saveConsent({ userId: `id-${username}`, clientId: 'web', scopes: ['openid'], updatedAt: NOW })
          await issued(`g-${username}`, { userId: `id-${username}`, sessionIdHash: `s-${username}` })
        }
        await store.createGrantWithCode(grant('g-old', { revokedAt: NOW - 5 }), code('c-old', 'g-old'))
        expect(await store.deleteUser('alice', NOW + 1)).toBe(true)
        expect(await store.deleteUser('alice', NOW + 2)).toBe(false)
        expect(await store.getUser('id-alice')).toBeUndefined()
        expect(await store.getSession('s-alice', NOW)).toBeUndefined()
        expect(await store.getConsent('id-alice', 'web')).toBeUndefined()
        expect(await store.getGrant('g-alice')).toStrictEqual(grant('g-alice', { sessionIdHash: 's-alice', revokedAt: NOW + 1 }))
        expect(await store.getGrant('g-old')).toStrictEqual(grant('g-old', { revokedAt: NOW - 5 }))
        expect(await store.rotateRefreshToken('rt-g-alice', NOW + 2, refreshToken('rt-next', 'g-alice'), accessToken('at-next'))).toBe('grant_revoked')
        expect(await store.isRevoked('at-g-alice')).toBe(true)
        expect(await store.isRevoked('at-g-bob')).toBe(false)
        expect(await store.getSession('s-bob', NOW)).toStrictEqual(session('s-bob', { userId: 'id-bob' }))
        expect(await store.getConsent('id-bob', 'web')).toStrictEqual({ userId: 'id-bob', clientId: 'web', scopes: ['openid'], updatedAt: NOW })
        expect(await store.getGrant('g-bob')).toStrictEqual(grant('g-bob', { userId: 'id-bob', sessionIdHash: 's-bob' }))
      })
    })

    describe('purge', () => {
      it('drops interactions, sessions and access-token records from their expiry on', async () => {
        await store.createInteraction(interaction('i-old'))
        await store.createInteraction(interaction('i-live', { expiresAt: NOW + 601 }))
        await store.createSession(session('s-old', { expiresAt: NOW + 600 }))
        await store.createSession(session('s-live'))
        await issued('g1')
        await store.recordGrantTokens('g1', NOW, accessToken('at-live', NOW + 900), undefined)
        await store.purgeExpired(NOW + 600)
        // Asked for an earlier time, the store shows only what it kept.
        expect(await store.getInteraction('i-old', NOW)).toBeUndefined()
        expect(await store.getInteraction('i-live', NOW)).toStrictEqual(interaction('i-live', { expiresAt: NOW + 601 }))
        expect(await store.getSession('s-old', NOW)).toBeUndefined()
        expect(await store.getSession('s-live', NOW)).toStrictEqual(session('s-live'))
        expect((await store.revokeGrant('g1', NOW)).map((r) => r.jti)).toStrictEqual(['at-live'])
      })

      it('keeps a grant with its used code and rotated tokens while it lives, and drops them all after', async () => {
        await issued('g1', { expiresAt: NOW + 1000 })
        await issued('g2')
        await store.consumeAuthorizationCode('code-g1', NOW + 1)
        await store.rotateRefreshToken('rt-g1', NOW + 10, refreshToken('rt-next', 'g1', { expiresAt: NOW + 1000 }), accessToken('at-next'))

        await store.purgeExpired(NOW + 999)
        expect(await store.getGrant('g1')).toStrictEqual(grant('g1', { expiresAt: NOW + 1000 }))
        expect(await store.consumeAuthorizationCode('code-g1', NOW + 999)).toBe(false)
        expect(await store.getRefreshToken('rt-g1')).toStrictEqual(refreshToken('rt-g1', 'g1', { rotatedAt: NOW + 10 }))
        expect(await store.rotateRefreshToken('rt-g1', NOW + 999, refreshToken('rt-late', 'g1'), accessToken('at-late'))).toBe('reused')

        await store.purgeExpired(NOW + 1000)
        expect(await store.getGrant('g1')).toBeUndefined()
        expect(await store.getAuthorizationCode('code-g1')).toBeUndefined()
        expect(await store.getRefreshToken('rt-g1')).toBeUndefined()
        expect(await store.getRefreshToken('rt-next')).toBeUndefined()
        expect(await store.listSessionGrants('s1')).toStrictEqual(['g2'])
        expect(await store.getAuthorizationCode('code-g2')).toStrictEqual(code('code-g2', 'g2'))
        expect(await store.getRefreshToken('rt-g2')).toStrictEqual(refreshToken('rt-g2', 'g2'))
        // The hashes are free again: nothing of g1 is left behind.
        await store.createGrantWithCode(grant('g1'), code('code-g1', 'g1'))
        expect(await store.recordGrantTokens('g1', NOW, accessToken('at-g1'), refreshToken('rt-g1', 'g1'))).toBe(true)
      })
    })
  })
}
