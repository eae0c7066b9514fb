import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { JWK } from 'jose'
import type { CertificateRecord, JoinTokenRecord } from '@meshguard/pki'
import { MeshguardError } from '../src/errors.js'
import type { AuditEvent, ClientRecord, LoginFailureRule, ReferenceTokenRecord, SigningKeyRecord, SigningKeyState, Store, UserRecord } from '../src/store/store.js'

const NOW = 1_700_000_000

const publicJwk: JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  use: 'sig',
  alg: 'ES256',
}

function client(id: string, overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    id,
    type: 'service',
    redirectUris: [],
    postLogoutRedirectUris: [],
    secretHash: 'sha256$c2FsdA$ZGlnZXN0',
    jwks: null,
    tlsClientAuthSanUri: null,
    grantTypes: ['client_credentials'],
    scopes: ['orders:read'],
    mayAct: null,
    tokenFormat: 'jwt',
    phantomTokens: false,
    createdAt: NOW,
    ...overrides,
  }
}

function referenceToken(tokenHash: string, overrides: Partial<ReferenceTokenRecord> = {}): ReferenceTokenRecord {
  return {
    tokenHash,
    jti: `jti-${tokenHash}`,
    clientId: 'orders',
    expiresAt: NOW + 600,
    sealedJwt: `v1.iv.sealed-${tokenHash}.tag`,
    ...overrides,
  }
}

function signingKey(kid: string, state: SigningKeyState, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid,
    alg: 'ES256',
    state,
    publicJwk: { ...publicJwk, kid },
    privateKeySealed: `sealed:${kid}`,
    createdAt: NOW,
    activatedAt: state === 'active' ? NOW : null,
    retiredAt: null,
    expiresAt: null,
    ...overrides,
  }
}

function joinToken(tokenHash: string, overrides: Partial<JoinTokenRecord> = {}): JoinTokenRecord {
  return {
    tokenHash,
    spiffeId: 'spiffe://mesh.internal/orders',
    dnsNames: ['orders.internal', 'orders.prod.svc'],
    createdAt: NOW,
    expiresAt: NOW + 3600,
    usedAt: null,
    ...overrides,
  }
}

function certificate(serialNumber: string, overrides: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    serialNumber,
    spiffeId: 'spiffe://mesh.internal/orders',
    kind: 'join',
    notBefore: NOW - 60,
    notAfter: NOW + 3600,
    issuedAt: NOW,
    revokedAt: null,
    revocationReason: null,
    ...overrides,
  }
}

function user(username: string, overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: `id-${username}`,
    username,
    passwordHash: `scrypt$32768$8$1$salt-${username}$hash`,
    name: null,
    email: null,
    createdAt: NOW,
    updatedAt: NOW,
    admin: false,
    ...overrides,
  }
}

const failureRule: LoginFailureRule = { windowSec: 900, lockAfter: 3, lockSec: 600, retainSec: 900 }

function conflict(fragment: string): unknown {
  return expect.objectContaining({ code: 'ERR_STORE_CONFLICT', message: expect.stringContaining(fragment) })
}

/**
 * The behaviour every {@link Store} backend must show. `open` returns a new connection to
 * the same database on each call (the suite closes what it opens); `reset` empties that
 * database and runs before each test, with no connection open.
 *
 * @example
 * ```ts
 * storeConformance('sqlite', () => openStore({ dataDir }), async () => { dataDir = freshDir() })
 * ```
 */
export function storeConformance(name: string, open: () => Promise<Store>, reset: () => Promise<void>): void {
  describe(`${name} store conformance`, () => {
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

    describe('clients', () => {
      it('round-trips a secret client, a private_key_jwt client and a tls_client_auth client', async () => {
        const jwtClient = client('billing', { secretHash: null, jwks: [publicJwk], mayAct: 'gateway', scopes: [] })
        const tlsClient = client('payments', { secretHash: null, tlsClientAuthSanUri: 'spiffe://mesh.internal/ns/shop/sa/payments' })
        await store.createClient(client('orders'))
        await store.createClient(jwtClient)
        await store.createClient(tlsClient)
        expect(await store.getClient('orders')).toStrictEqual(client('orders'))
        expect(await store.getClient('billing')).toStrictEqual(jwtClient)
        expect(await store.getClient('payments')).toStrictEqual(tlsClient)
        expect(await store.getClient('missing')).toBeUndefined()
        expect((await store.listClients()).map((c) => c.id)).toStrictEqual(['billing', 'orders', 'payments'])
        expect((await store.listClients()).find((c) => c.id === 'payments')).toStrictEqual(tlsClient)
      })

      it('round-trips the token format and the phantom-token permission', async () => {
        const web = client('web', { tokenFormat: 'reference' })
        const gateway = client('gateway', { phantomTokens: true })
        const both = client('edge', { tokenFormat: 'reference', phantomTokens: true })
        for (const record of [web, gateway, both]) await store.createClient(record)
        expect(await store.getClient('web')).toStrictEqual(web)
        expect(await store.getClient('gateway')).toStrictEqual(gateway)
        expect(await store.listClients()).toStrictEqual([both, gateway, web])
      })

      it('round-trips the client type and the redirect URIs of clients with a user behind them', async () => {
        const web = client('web', {
          type: 'web',
          grantTypes: ['authorization_code', 'refresh_token'],
          redirectUris: ['https://app.example/callback', 'https://app.example/callback?tenant=a'],
          postLogoutRedirectUris: ['https://app.example/'],
        })
        const spa = client('spa', { type: 'spa', secretHash: null, redirectUris: ['https://spa.example/cb'] })
        const native = client('native', { type: 'native', secretHash: null, redirectUris: ['http://127.0.0.1/cb', 'com.example.app:/cb'] })
        for (const record of [web, spa, native]) await store.createClient(record)
        expect(await store.getClient('web')).toStrictEqual(web)
        expect(await store.listClients()).toStrictEqual([native, spa, web])
      })

      it('rejects a duplicate id and keeps the first client', async () => {
        await store.createClient(client('orders'))
        const error = await store.createClient(client('orders', { scopes: ['admin'] })).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(MeshguardError)
        expect(error).toEqual(conflict('"orders"'))
        expect(await store.getClient('orders')).toStrictEqual(client('orders'))
      })

      it('deletes a client once', async () => {
        await store.createClient(client('orders'))
        expect(await store.deleteClient('orders')).toBe(true)
        expect(await store.deleteClient('orders')).toBe(false)
        expect(await store.listClients()).toStrictEqual([])
      })
    })

    describe('resource servers', () => {
      const orders = { id: 'https://orders.internal', scopes: ['orders:read', 'orders:write'], createdAt: NOW }

      it('lists resource servers and resolves their scopes in one call', async () => {
        await store.createResourceServer(orders)
        await store.createResourceServer({ id: 'https://billing.internal', scopes: [], createdAt: NOW + 1 })
        expect(await store.listResourceServers()).toStrictEqual([
          { id: 'https://billing.internal', scopes: [], createdAt: NOW + 1 },
          orders,
        ])
        const resolved = await store.resolveScopes(['orders:write', 'unknown', 'orders:read', 'orders:read'])
        expect(resolved).toStrictEqual(
          new Map([
            ['orders:write', orders.id],
            ['orders:read', orders.id],
          ]),
        )
        expect(await store.resolveScopes([])).toStrictEqual(new Map())
      })

      it('rejects a duplicate id without writing its scopes', async () => {
        await store.createResourceServer(orders)
        await expect(store.createResourceServer({ ...orders, scopes: ['extra'] })).rejects.toEqual(conflict(orders.id))
        expect(await store.resolveScopes(['extra'])).toStrictEqual(new Map())
        expect(await store.listResourceServers()).toStrictEqual([orders])
      })

      it('rejects a scope owned by another resource server, naming it, and writes nothing', async () => {
        await store.createResourceServer(orders)
        const rival = { id: 'https://rival.internal', scopes: ['rival:read', 'orders:write'], createdAt: NOW }
        await expect(store.createResourceServer(rival)).rejects.toEqual(conflict('"orders:write"'))
        expect(await store.listResourceServers()).toStrictEqual([orders])
        expect(await store.resolveScopes(['rival:read', 'orders:write'])).toStrictEqual(
          new Map([['orders:write', orders.id]]),
        )
      })

      it('deletes a resource server with its scopes', async () => {
        await store.createResourceServer(orders)
        expect(await store.deleteResourceServer(orders.id)).toBe(true)
        expect(await store.deleteResourceServer(orders.id)).toBe(false)
        expect(await store.resolveScopes(orders.scopes)).toStrictEqual(new Map())
        await store.createResourceServer({ ...orders, id: 'https://orders-v2.internal' })
      })
    })

    describe('signing keys', () => {
      const active = signingKey('k1', 'active')
      const next = signingKey('k2', 'next', { createdAt: NOW + 10 })

      it('round-trips keys with their JWK and times as numbers', async () => {
        const retired = signingKey('k0', 'retired', { createdAt: NOW - 10, retiredAt: NOW, expiresAt: NOW + 3600 })
        await store.applyKeyChanges({ insert: [active, next, retired] })
        const keys = await store.listSigningKeys()
        expect(keys).toStrictEqual([retired, active, next])
        expect(typeof keys[0]?.expiresAt).toBe('number')
      })

      it('rotates in one call: promote, retire, insert and delete', async () => {
        const old = signingKey('k0', 'retired', { createdAt: NOW - 10, retiredAt: NOW - 5, expiresAt: NOW })
        await store.applyKeyChanges({ insert: [old, active, next] })
        const third = signingKey('k3', 'next', { createdAt: NOW + 20 })
        await store.applyKeyChanges({
          delete: ['k0'],
          update: [
            { kid: 'k2', state: 'active', activatedAt: NOW + 30, retiredAt: null, expiresAt: null },
            { kid: 'k1', state: 'retired', activatedAt: NOW, retiredAt: NOW + 30, expiresAt: NOW + 90 },
          ],
          insert: [third],
        })
        expect(await store.listSigningKeys()).toStrictEqual([
          { ...active, state: 'retired', retiredAt: NOW + 30, expiresAt: NOW + 90 },
          { ...next, state: 'active', activatedAt: NOW + 30 },
          third,
        ])
      })

      it('refuses a second active key and rolls back the whole change', async () => {
        await store.applyKeyChanges({ insert: [active, next, signingKey('k9', 'retired')] })
        const before = await store.listSigningKeys()
        await expect(
          store.applyKeyChanges({
            delete: ['k9'],
            update: [{ kid: 'k2', state: 'active', activatedAt: NOW, retiredAt: null, expiresAt: null }],
            insert: [signingKey('k3', 'next')],
          }),
        ).rejects.toEqual(conflict('two active'))
        await expect(store.applyKeyChanges({ insert: [signingKey('k4', 'active')] })).rejects.toEqual(
          conflict('two active'),
        )
        expect(await store.listSigningKeys()).toStrictEqual(before)
      })

      it('refuses a duplicate kid and an update of an unknown kid, writing nothing', async () => {
        await store.applyKeyChanges({ insert: [active] })
        await expect(store.applyKeyChanges({ delete: ['k1'], insert: [next, next] })).rejects.toEqual(conflict('"k2"'))
        await expect(
          store.applyKeyChanges({
            delete: ['k1'],
            update: [{ kid: 'nope', state: 'retired', activatedAt: null, retiredAt: NOW, expiresAt: NOW }],
          }),
        ).rejects.toMatchObject({ code: 'ERR_STORE_NOT_FOUND' })
        expect(await store.listSigningKeys()).toStrictEqual([active])
      })
    })

    describe('revocations and assertion jtis', () => {
      it('revokes a jti once and lists revocations since a time', async () => {
        const first = { jti: 'j1', clientId: 'orders', expiresAt: NOW + 600, revokedAt: NOW }
        const second = { jti: 'j2', clientId: 'orders', expiresAt: NOW + 600, revokedAt: NOW + 5 }
        expect(await store.revokeToken(first)).toBe(true)
        expect(await store.revokeToken({ ...first, revokedAt: NOW + 9 })).toBe(false)
        expect(await store.revokeToken(second)).toBe(true)
        expect(await store.isRevoked('j1')).toBe(true)
        expect(await store.isRevoked('j3')).toBe(false)
        expect(await store.listRevocations(0)).toStrictEqual([first, second])
        expect(await store.listRevocations(NOW + 5)).toStrictEqual([second])
      })

      it('accepts an assertion jti once per client', async () => {
        expect(await store.consumeAssertionJti('orders', 'a1', NOW + 60)).toBe(true)
        expect(await store.consumeAssertionJti('orders', 'a1', NOW + 60)).toBe(false)
        expect(await store.consumeAssertionJti('billing', 'a1', NOW + 60)).toBe(true)
      })

      it('accepts exactly one of 20 concurrent uses of a jti', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.consumeAssertionJti('orders', 'race', NOW + 60)),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
      })

      it('purges only expired revocations and jtis', async () => {
        await store.revokeToken({ jti: 'old', clientId: 'orders', expiresAt: NOW - 1, revokedAt: NOW - 100 })
        await store.revokeToken({ jti: 'live', clientId: 'orders', expiresAt: NOW + 1, revokedAt: NOW - 100 })
        await store.consumeAssertionJti('orders', 'old', NOW - 1)
        await store.consumeAssertionJti('orders', 'live', NOW + 1)
        await store.purgeExpired(NOW)
        expect((await store.listRevocations(0)).map((r) => r.jti)).toStrictEqual(['live'])
        expect(await store.consumeAssertionJti('orders', 'old', NOW + 60)).toBe(true)
        expect(await store.consumeAssertionJti('orders', 'live', NOW + 60)).toBe(false)
      })
    })

    describe('reference tokens', () => {
      it('finds a token by its hash and nothing else', async () => {
        await store.saveReferenceToken(referenceToken('h1'))
        await store.saveReferenceToken(referenceToken('h2', { clientId: 'billing', expiresAt: NOW + 5 }))
        expect(await store.getReferenceToken('h1')).toStrictEqual(referenceToken('h1'))
        expect(await store.getReferenceToken('h2')).toStrictEqual(referenceToken('h2', { clientId: 'billing', expiresAt: NOW + 5 }))
        expect(await store.getReferenceToken('jti-h1')).toBeUndefined()
        expect(await store.getReferenceToken('H1')).toBeUndefined()
      })

      it('rejects a duplicate hash and keeps the first token', async () => {
        await store.saveReferenceToken(referenceToken('h1'))
        await expect(store.saveReferenceToken(referenceToken('h1', { jti: 'other' }))).rejects.toEqual(conflict('"h1"'))
        expect(await store.getReferenceToken('h1')).toStrictEqual(referenceToken('h1'))
      })

      it('is seen through another connection at once', async () => {
        const other = await connect()
        await store.saveReferenceToken(referenceToken('h1'))
        expect(await other.getReferenceToken('h1')).toStrictEqual(referenceToken('h1'))
      })

      it('purges tokens past their expiry with the other expired records', async () => {
        await store.saveReferenceToken(referenceToken('old', { expiresAt: NOW - 1 }))
        await store.saveReferenceToken(referenceToken('edge', { expiresAt: NOW }))
        await store.saveReferenceToken(referenceToken('live'))
        await store.purgeExpired(NOW)
        expect(await store.getReferenceToken('old')).toBeUndefined()
        expect(await store.getReferenceToken('edge')).toStrictEqual(referenceToken('edge', { expiresAt: NOW }))
        expect(await store.getReferenceToken('live')).toStrictEqual(referenceToken('live'))
      })
    })

    describe('CA join tokens', () => {
      it('redeems a token once, returning it marked used', async () => {
        await store.createJoinToken(joinToken('h1'))
        expect(await store.redeemJoinToken('h1', NOW + 10)).toStrictEqual(joinToken('h1', { usedAt: NOW + 10 }))
        expect(await store.redeemJoinToken('h1', NOW + 11)).toBeUndefined()
        expect(await store.redeemJoinToken('unknown', NOW + 10)).toBeUndefined()
      })

      it('refuses a token from its expiry on, without using it up', async () => {
        await store.createJoinToken(joinToken('h1', { expiresAt: NOW }))
        expect(await store.redeemJoinToken('h1', NOW)).toBeUndefined()
        expect(await store.redeemJoinToken('h1', NOW + 1)).toBeUndefined()
        expect(await store.redeemJoinToken('h1', NOW - 1)).toStrictEqual(
          joinToken('h1', { expiresAt: NOW, usedAt: NOW - 1 }),
        )
      })

      it('redeems exactly one of 20 concurrent redemptions', async () => {
        await store.createJoinToken(joinToken('race'))
        const results = await Promise.all(Array.from({ length: 20 }, () => store.redeemJoinToken('race', NOW)))
        expect(results.filter((result) => result !== undefined)).toStrictEqual([joinToken('race', { usedAt: NOW })])
      })

      it('redeems exactly one of 20 concurrent redemptions through two connections', async () => {
        const other = await connect()
        await store.createJoinToken(joinToken('race'))
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).redeemJoinToken('race', NOW)),
        )
        expect(results.filter((result) => result !== undefined)).toStrictEqual([joinToken('race', { usedAt: NOW })])
      })

      it('rejects a duplicate token hash and keeps the first token', async () => {
        await store.createJoinToken(joinToken('h1'))
        const error = await store
          .createJoinToken(joinToken('h1', { spiffeId: 'spiffe://mesh.internal/rival' }))
          .catch((e: unknown) => e)
        expect(error).toBeInstanceOf(MeshguardError)
        expect(error).toEqual(conflict('"h1"'))
        expect(await store.redeemJoinToken('h1', NOW)).toStrictEqual(joinToken('h1', { usedAt: NOW }))
      })
    })

    describe('CA certificates', () => {
      it('round-trips certificates with every field and rejects a duplicate serial number', async () => {
        const revoked = certificate('0a3f', {
          kind: 'offline',
          notBefore: NOW - 120,
          notAfter: NOW + 86_400,
          issuedAt: NOW - 100,
          revokedAt: NOW - 5,
          revocationReason: 'keyCompromise',
        })
        await store.recordCertificate(certificate('01'))
        await store.recordCertificate(revoked)
        expect(await store.getCertificate('01')).toStrictEqual(certificate('01'))
        expect(await store.getCertificate('0a3f')).toStrictEqual(revoked)
        expect(await store.getCertificate('ff')).toBeUndefined()
        await expect(store.recordCertificate(certificate('01', { kind: 'renewal' }))).rejects.toEqual(conflict('"01"'))
        expect(await store.getCertificate('01')).toStrictEqual(certificate('01'))
      })

      it('revokes a certificate once, keeping the first time and reason', async () => {
        await store.recordCertificate(certificate('01'))
        expect(await store.revokeCertificate('01', NOW + 5, 'keyCompromise')).toBe(true)
        expect(await store.revokeCertificate('01', NOW + 9, 'superseded')).toBe(false)
        expect(await store.revokeCertificate('ff', NOW + 5, 'keyCompromise')).toBe(false)
        expect(await store.getCertificate('01')).toStrictEqual(
          certificate('01', { revokedAt: NOW + 5, revocationReason: 'keyCompromise' }),
        )
      })

      it('revokes exactly once under 20 concurrent revocations', async () => {
        await store.recordCertificate(certificate('01'))
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.revokeCertificate('01', NOW, 'keyCompromise')),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
      })

      it('lists the revoked certificates not yet expired, oldest revocation first', async () => {
        await store.recordCertificate(certificate('01'))
        await store.recordCertificate(certificate('02', { notAfter: NOW }))
        await store.recordCertificate(certificate('03', { notAfter: NOW - 1 }))
        await store.recordCertificate(certificate('04'))
        await store.revokeCertificate('01', NOW - 10, 'keyCompromise')
        await store.revokeCertificate('02', NOW - 20, 'superseded')
        await store.revokeCertificate('03', NOW - 30, 'keyCompromise')
        expect(await store.listRevokedCertificates(NOW)).toStrictEqual([
          certificate('02', { notAfter: NOW, revokedAt: NOW - 20, revocationReason: 'superseded' }),
          certificate('01', { revokedAt: NOW - 10, revocationReason: 'keyCompromise' }),
        ])
        expect(await store.listRevokedCertificates(NOW + 3601)).toStrictEqual([])
      })
    })

    describe('CA purge', () => {
      it('drops expired join tokens and certificates and keeps live ones', async () => {
        await store.createJoinToken(joinToken('expired', { expiresAt: NOW - 1 }))
        await store.createJoinToken(joinToken('edge', { expiresAt: NOW }))
        await store.createJoinToken(joinToken('live'))
        await store.createJoinToken(joinToken('used'))
        await store.redeemJoinToken('used', NOW - 50)
        const expired = certificate('01', { notAfter: NOW - 1, revokedAt: NOW - 9, revocationReason: 'superseded' })
        await store.recordCertificate(expired)
        await store.recordCertificate(certificate('02', { notAfter: NOW }))
        await store.recordCertificate(certificate('03'))
        await store.purgeExpiredCaRecords(NOW)

        await expect(store.createJoinToken(joinToken('expired'))).resolves.toBeUndefined()
        await expect(store.createJoinToken(joinToken('edge'))).rejects.toEqual(conflict('"edge"'))
        await expect(store.createJoinToken(joinToken('used'))).rejects.toEqual(conflict('"used"'))
        expect(await store.redeemJoinToken('used', NOW)).toBeUndefined()
        expect(await store.redeemJoinToken('live', NOW)).toStrictEqual(joinToken('live', { usedAt: NOW }))
        expect(await store.getCertificate('01')).toBeUndefined()
        expect(await store.getCertificate('02')).toStrictEqual(certificate('02', { notAfter: NOW }))
        expect(await store.getCertificate('03')).toStrictEqual(certificate('03'))
      })

      it('is part of purgeExpired', async () => {
        await store.createJoinToken(joinToken('expired', { expiresAt: NOW - 1 }))
        await store.recordCertificate(certificate('01', { notAfter: NOW - 1 }))
        await store.recordCertificate(certificate('02'))
        await store.purgeExpired(NOW)
        await expect(store.createJoinToken(joinToken('expired'))).resolves.toBeUndefined()
        expect(await store.getCertificate('01')).toBeUndefined()
        expect(await store.getCertificate('02')).toStrictEqual(certificate('02'))
      })
    })

    describe('users', () => {
      it('round-trips users with and without standard claims, listed by username', async () => {
        const alice = user('alice', { name: 'Alice Liddell', email: 'alice@example.com' })
        await store.createUser(user('zoe'))
        await store.createUser(alice)
        expect(await store.getUserByUsername('alice')).toStrictEqual(alice)
        expect(await store.getUser('id-alice')).toStrictEqual(alice)
        expect(await store.getUserByUsername('missing')).toBeUndefined()
        expect(await store.getUser('missing')).toBeUndefined()
        expect(await store.listUsers()).toStrictEqual([alice, user('zoe')])
      })

      it('round-trips the administrator flag, false unless set', async () => {
        const root = user('root', { admin: true })
        await store.createUser(root)
        await store.createUser(user('alice'))
        expect(await store.getUserByUsername('root')).toStrictEqual(root)
        expect(await store.getUser('id-alice')).toMatchObject({ admin: false })
        expect((await store.listUsers()).map((u) => [u.username, u.admin])).toStrictEqual([['alice', false], ['root', true]])
      })

      it('rejects a duplicate username or id and keeps the first user', async () => {
        await store.createUser(user('alice'))
        await expect(store.createUser(user('alice', { id: 'other' }))).rejects.toEqual(conflict('"alice"'))
        await expect(store.createUser(user('bob', { id: 'id-alice' }))).rejects.toEqual(conflict('"bob"'))
        expect(await store.listUsers()).toStrictEqual([user('alice')])
      })

      it('updates a password and deletes a user', async () => {
        await store.createUser(user('alice'))
        expect(await store.updateUserPassword('alice', 'scrypt$new', NOW + 5)).toBe(true)
        expect(await store.updateUserPassword('bob', 'scrypt$new', NOW + 5)).toBe(false)
        expect(await store.getUserByUsername('alice')).toStrictEqual(user('alice', { passwordHash: 'scrypt$new', updatedAt: NOW + 5 }))
        expect(await store.deleteUser('alice', NOW + 5)).toBe(true)
        expect(await store.deleteUser('alice', NOW + 5)).toBe(false)
        expect(await store.listUsers()).toStrictEqual([])
      })
    })

    describe('login failures', () => {
      it('counts within the window, locks at the threshold, and starts over after the window or the lock', async () => {
        expect(await store.recordLoginFailure('account:alice', NOW, failureRule)).toStrictEqual({ key: 'account:alice', failures: 1, windowStart: NOW, lastFailureAt: NOW, lockedUntil: null })
        expect(await store.recordLoginFailure('account:alice', NOW + 10, failureRule)).toMatchObject({ failures: 2, windowStart: NOW, lockedUntil: null })
        expect(await store.recordLoginFailure('account:alice', NOW + 20, failureRule)).toStrictEqual({ key: 'account:alice', failures: 3, windowStart: NOW, lastFailureAt: NOW + 20, lockedUntil: NOW + 620 })
        // After the lock: a new window.
        expect(await store.recordLoginFailure('account:alice', NOW + 620, failureRule)).toStrictEqual({ key: 'account:alice', failures: 1, windowStart: NOW + 620, lastFailureAt: NOW + 620, lockedUntil: null })
        // After the window: a new window.
        expect(await store.recordLoginFailure('account:alice', NOW + 1520, failureRule)).toMatchObject({ failures: 1, windowStart: NOW + 1520 })
        expect(await store.getLoginFailures(['account:alice', 'ip:192.0.2.1'])).toStrictEqual([{ key: 'account:alice', failures: 1, windowStart: NOW + 1520, lastFailureAt: NOW + 1520, lockedUntil: null }])
        await store.clearLoginFailures('account:alice')
        expect(await store.getLoginFailures(['account:alice'])).toStrictEqual([])
      })

      it('loses no count under concurrent failures on several connections', async () => {
        const other = await connect()
        await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? store : other).recordLoginFailure('ip:192.0.2.1', NOW, { ...failureRule, lockAfter: 10 })))
        expect(await other.getLoginFailures(['ip:192.0.2.1'])).toStrictEqual([{ key: 'ip:192.0.2.1', failures: 10, windowStart: NOW, lastFailureAt: NOW, lockedUntil: NOW + 600 }])
      })

      it('purges failures past their retention', async () => {
        await store.recordLoginFailure('account:old', NOW, failureRule)
        await store.recordLoginFailure('account:new', NOW + 600, failureRule)
        await store.purgeExpired(NOW + 901)
        expect((await store.getLoginFailures(['account:old', 'account:new'])).map((f) => f.key)).toStrictEqual(['account:new'])
      })
    })

    describe('certificate listing', () => {
      it('lists every recorded certificate, newest issued first, revoked ones included', async () => {
        await store.recordCertificate(certificate('0a', { issuedAt: NOW - 10 }))
        await store.recordCertificate(certificate('0b', { issuedAt: NOW, spiffeId: 'spiffe://mesh.internal/payments' }))
        await store.recordCertificate(certificate('0c', { issuedAt: NOW - 5, kind: 'renewal' }))
        await store.revokeCertificate('0a', NOW, 'keyCompromise')
        expect(await store.listCertificates()).toStrictEqual([
          certificate('0b', { issuedAt: NOW, spiffeId: 'spiffe://mesh.internal/payments' }),
          certificate('0c', { issuedAt: NOW - 5, kind: 'renewal' }),
          certificate('0a', { issuedAt: NOW - 10, revokedAt: NOW, revocationReason: 'keyCompromise' }),
        ])
      })
    })

    describe('audit', () => {
      it('round-trips events with their delegation chain and details', async () => {
        const full: AuditEvent = {
          ts: NOW * 1000 + 123,
          type: 'token.exchanged',
          decision: 'allow',
          clientId: 'gateway',
          subject: 'orders',
          jti: 'j1',
          act: ['gateway', 'edge'],
          reason: 'policy',
          details: { scope: 'orders:read', audience: ['a', 'b'], nested: { n: 1, ok: true } },
        }
        const bare: AuditEvent = { ts: NOW * 1000, type: 'client.authenticated', decision: 'deny' }
        await store.appendAudit([bare, full])
        await store.appendAudit([])
        expect(await store.listAudit(10)).toStrictEqual([full, bare])
      })

      it('lists newest first, the later of equal times first, and honours the limit', async () => {
        const events = [3, 1, 2, 2].map((n, i) => ({ ts: n * 1000, type: `e${i}`, decision: 'allow' as const }))
        await store.appendAudit(events)
        expect((await store.listAudit(3)).map((e) => e.type)).toStrictEqual(['e0', 'e3', 'e2'])
      })

      describe('queryAudit', () => {
        const call = (n: number, service: string, caller: string | undefined, decision: 'allow' | 'deny', reason?: string): AuditEvent => ({
          ts: NOW * 1000 + n,
          type: 'service.call',
          decision,
          ...(caller !== undefined && { clientId: caller }),
          ...(reason !== undefined && { reason }),
          details: { service, method: 'GET', path: `/p${n}`, reporter: service },
        })
        const events: AuditEvent[] = [
          call(1, 'orders', 'gateway', 'allow'),
          call(2, 'orders', 'cart', 'deny', 'insufficient_scope: orders:write'),
          call(3, 'payments', 'orders', 'deny', 'ERR_CHAIN_REFUSED'),
          call(4, 'payments', undefined, 'deny', 'ERR_TOKEN_MISSING'),
          { ts: NOW * 1000 + 5, type: 'token.issued', decision: 'allow', clientId: 'orders', details: { scope: 'payments:write', note: 'service "orders"' } },
          call(6, 'orders', 'gateway', 'allow', '100%_sure'),
        ]
        const paths = (found: AuditEvent[]) => found.map((e) => (e.details?.path as string | undefined) ?? e.type)

        beforeEach(async () => {
          await store.appendAudit(events)
        })

        it.each<[string, Parameters<Store['queryAudit']>[0], string[]]>([
          ['no filter: everything, newest first', {}, ['/p6', 'token.issued', '/p4', '/p3', '/p2', '/p1']],
          ['by type', { type: 'service.call' }, ['/p6', '/p4', '/p3', '/p2', '/p1']],
          ['by service (details.service, never another detail)', { service: 'orders' }, ['/p6', '/p2', '/p1']],
          ['by client', { clientId: 'orders' }, ['token.issued', '/p3']],
          ['by decision', { decision: 'deny' }, ['/p4', '/p3', '/p2']],
          ['by reason, a case-insensitive substring', { reason: 'scope' }, ['/p2']],
          ['by reason, % and _ taken literally', { reason: '%_S' }, ['/p6']],
          ['by reason, _ matching no other character (not "ers" of orders:write)', { reason: 'e_s' }, []],
          ['by time, both bounds inclusive', { since: NOW * 1000 + 2, until: NOW * 1000 + 4 }, ['/p4', '/p3', '/p2']],
          ['by every criterion at once', { type: 'service.call', service: 'payments', decision: 'deny', reason: 'chain', since: NOW * 1000 }, ['/p3']],
          ['nothing when nothing matches', { service: 'nobody' }, []],
        ])('%s', async (_, filter, expected) => {
          expect(paths(await store.queryAudit(filter, 10))).toStrictEqual(expected)
        })

        it('honours the limit and round-trips the events', async () => {
          expect(await store.queryAudit({ service: 'payments' }, 1)).toStrictEqual([events[3]])
        })
      })
    })

    describe('lifecycle', () => {
      it('answers ping', async () => {
        await expect(store.ping()).resolves.toBeUndefined()
      })

      it('keeps everything across close and reopen', async () => {
        const resource = { id: 'https://orders.internal', scopes: ['orders:read'], createdAt: NOW }
        const revocation = { jti: 'j1', clientId: 'orders', expiresAt: NOW + 600, revokedAt: NOW }
        const event: AuditEvent = { ts: NOW * 1000, type: 'token.issued', decision: 'allow', act: ['a'] }
        const tlsClient = client('payments', { secretHash: null, tlsClientAuthSanUri: 'spiffe://mesh.internal/ns/shop/sa/payments' })
        await store.createClient(client('orders', { jwks: [publicJwk] }))
        await store.createClient(tlsClient)
        await store.createResourceServer(resource)
        await store.applyKeyChanges({ insert: [signingKey('k1', 'active')] })
        await store.revokeToken(revocation)
        await store.consumeAssertionJti('orders', 'a1', NOW + 60)
        await store.appendAudit([event])
        await store.createJoinToken(joinToken('unused'))
        await store.createJoinToken(joinToken('used'))
        await store.redeemJoinToken('used', NOW)
        await store.recordCertificate(certificate('01'))
        await store.revokeCertificate('01', NOW, 'keyCompromise')
        await store.createClient(client('web', { tokenFormat: 'reference', phantomTokens: true }))
        await store.saveReferenceToken(referenceToken('h1'))
        await store.createUser(user('alice', { email: 'alice@example.com' }))
        const lock = { ...failureRule, lockAfter: 1 }
        await store.recordLoginFailure('account:alice', NOW, lock)
        await store.close()

        const reopened = await connect()
        expect(await reopened.getClient('orders')).toStrictEqual(client('orders', { jwks: [publicJwk] }))
        expect(await reopened.getClient('payments')).toStrictEqual(tlsClient)
        expect(await reopened.getClient('web')).toStrictEqual(client('web', { tokenFormat: 'reference', phantomTokens: true }))
        expect(await reopened.getReferenceToken('h1')).toStrictEqual(referenceToken('h1'))
        expect(await reopened.listResourceServers()).toStrictEqual([resource])
        expect(await reopened.listSigningKeys()).toStrictEqual([signingKey('k1', 'active')])
        expect(await reopened.listRevocations(0)).toStrictEqual([revocation])
        expect(await reopened.consumeAssertionJti('orders', 'a1', NOW + 60)).toBe(false)
        expect(await reopened.listAudit(10)).toStrictEqual([event])
        const revoked = certificate('01', { revokedAt: NOW, revocationReason: 'keyCompromise' })
        expect(await reopened.redeemJoinToken('used', NOW)).toBeUndefined()
        expect(await reopened.redeemJoinToken('unused', NOW)).toStrictEqual(joinToken('unused', { usedAt: NOW }))
        expect(await reopened.getCertificate('01')).toStrictEqual(revoked)
        expect(await reopened.listRevokedCertificates(NOW)).toStrictEqual([revoked])
        expect(await reopened.getUserByUsername('alice')).toStrictEqual(user('alice', { email: 'alice@example.com' }))
        expect(await reopened.getLoginFailures(['account:alice'])).toStrictEqual([{ key: 'account:alice', failures: 1, windowStart: NOW, lastFailureAt: NOW, lockedUntil: NOW + 600 }])
      })
    })
  })
}
