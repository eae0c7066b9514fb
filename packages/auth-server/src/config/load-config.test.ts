import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { thrown } from '../../test/helpers/thrown.js'
import { MeshguardError } from '../errors.js'
import { loadConfig, parseConfig } from './load-config.js'


/** The message of the ERR_CONFIG_INVALID error `input` is refused with. */
function refusal(input: unknown): string {
  const err = thrown(() => parseConfig(input))
  expect(err).toBeInstanceOf(MeshguardError)
  expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID' })
  return (err as MeshguardError).message
}

describe('parseConfig', () => {
  it('fills in the documented defaults', () => {
    const config = parseConfig({})
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      dataDir: '.meshguard',
      signing: { algorithm: 'ES256', rsaModulusLength: 2048, rotationIntervalSec: 30 * 86400, publishAheadSec: 900 },
      tokens: { accessTokenTtlSec: 600, maxAccessTokenTtlSec: 3600, maxChainDepth: 4, clockToleranceSec: 30 },
      log: { level: 'info' },
    })
    expect(config.issuer).toBeUndefined()
    expect(config.databaseUrl).toBeUndefined()
    expect(config.keyEncryptionKey).toBeUndefined()
  })

  describe('issuer (RFC 8414 §2)', () => {
    it.each([
      'https://auth.example.com',
      'https://auth.example.com/tenants/a',
      'http://127.0.0.1:4000',
      'http://127.8.9.10',
      'http://localhost',
      'http://localhost:4000',
      'http://[::1]:9',
    ])('accepts %s', (issuer) => {
      expect(parseConfig({ issuer }).issuer).toBe(issuer)
    })

    const httpsOnly = 'must use https unless the host is loopback (localhost, 127.0.0.0/8, [::1])'
    const noQuery = 'must not have a query or fragment (RFC 8414 §2)'
    it.each([
      ['http on a public host', 'http://auth.example.com', httpsOnly],
      ['http on a private address', 'http://10.0.0.1:4000', httpsOnly],
      ['http on a name that starts with localhost', 'http://localhost.evil.example', httpsOnly],
      ['http on a name that starts with 127.', 'http://127.0.0.1.nip.io', httpsOnly],
      ['http on the unspecified address', 'http://0.0.0.0:4000', httpsOnly],
      ['a query', 'https://auth.example.com/?tenant=a', noQuery],
      ['an empty query', 'https://auth.example.com/?', noQuery],
      ['a fragment', 'https://auth.example.com/#a', noQuery],
      ['an empty fragment', 'https://auth.example.com#', noQuery],
      ['another scheme', 'ftp://auth.example.com', 'must be an http(s) URL'],
      ['a relative URL', 'auth.example.com', 'must be an absolute URL'],
      ['credentials', 'https://user:secret@auth.example.com', 'must not carry credentials'],
    ])('refuses %s', (_, issuer, message) => {
      expect(refusal({ issuer })).toContain(`  - issuer: ${message}`)
    })
  })

  it('reports every problem in one error', () => {
    const message = refusal({
      issuer: 'http://auth.example.com',
      port: 70000,
      signing: { algorithm: 'HS256', rsaModulusLength: 1024 },
      tokens: { maxChainDepth: 0, clockToleranceSec: 'soon' },
      log: { level: 'loud' },
      bogus: true,
    })
    for (const path of [
      'issuer',
      'port',
      'signing.algorithm',
      'signing.rsaModulusLength',
      'tokens.maxChainDepth',
      'tokens.clockToleranceSec',
      'log.level',
      '(root)',
    ]) {
      expect(message).toContain(`\n  - ${path}: `)
    }
  })

  // Known bug: the cross-field check in schema.ts is skipped once any field has failed, so a
  // misconfigured TTL surfaces only after the other problems are fixed. Make this an `it` once fixed.
  it('reports a TTL above the maximum alongside other problems', () => {
    const message = refusal({ port: 'x', tokens: { accessTokenTtlSec: 7200, maxAccessTokenTtlSec: 3600 } })
    expect(message).toContain('\n  - port: ')
    expect(message).toContain('\n  - tokens.accessTokenTtlSec: must not exceed tokens.maxAccessTokenTtlSec')
  })

  it.each([
    ['an unknown top-level key', { prot: 4000 }, '  - (root): Unrecognized key: "prot"'],
    ['an RSA modulus of 1024 bits', { signing: { rsaModulusLength: 1024 } }, '  - signing.rsaModulusLength: '],
    ['an unknown signing algorithm', { signing: { algorithm: 'HS256' } }, '  - signing.algorithm: '],
    [
      'an access token TTL above the maximum',
      { tokens: { accessTokenTtlSec: 3601 } },
      '  - tokens.accessTokenTtlSec: must not exceed tokens.maxAccessTokenTtlSec',
    ],
    ['a port out of range', { port: 65536 }, '  - port: '],
    ['a database URL that is not postgres', { databaseUrl: 'mysql://db/meshguard' }, '  - databaseUrl: must be a postgres:// or postgresql:// URL'],
    ['a short key encryption key', { keyEncryptionKey: 'c2hvcnQ' }, '  - keyEncryptionKey: must be 32 bytes encoded as base64url (43 characters)'],
  ])('refuses %s', (_, input, message) => {
    expect(refusal(input)).toContain(message)
  })

  it('accepts an access token TTL equal to the maximum', () => {
    expect(parseConfig({ tokens: { accessTokenTtlSec: 3600 } }).tokens.accessTokenTtlSec).toBe(3600)
  })

  it('freezes the result, nested objects included', () => {
    const config = parseConfig({})
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.signing)).toBe(true)
    expect(Object.isFrozen(config.tokens)).toBe(true)
    expect(() => {
      ;(config as { port: number }).port = 1
    }).toThrow(TypeError)
    expect(() => {
      ;(config.tokens as { accessTokenTtlSec: number }).accessTokenTtlSec = 86400
    }).toThrow(TypeError)
    expect(config.port).toBe(4000)
  })
})

describe('loadConfig', () => {
  let root: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'meshguard-config-'))
  })
  afterEach(() => {
    rmSync(root, { recursive: true, force: true })
  })

  function writeConfig(value: unknown): string {
    const file = join(root, 'meshguard.json')
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value))
    return file
  }

  it('uses the defaults without a file or environment', () => {
    expect(loadConfig({ env: {} })).toEqual(parseConfig({}))
  })

  it('lets the environment override the file and the file override the defaults', () => {
    const file = writeConfig({
      port: 5000,
      host: '0.0.0.0',
      signing: { algorithm: 'EdDSA' },
      tokens: { accessTokenTtlSec: 900, maxChainDepth: 6 },
    })
    const config = loadConfig({
      file,
      env: { MESHGUARD_PORT: '6000', MESHGUARD_MAX_CHAIN_DEPTH: '8', MESHGUARD_HOST: '', MESHGUARD_ISSUER: 'https://auth.example.com' },
    })
    expect(config).toMatchObject({
      issuer: 'https://auth.example.com',
      port: 6000,
      host: '0.0.0.0',
      signing: { algorithm: 'EdDSA', rsaModulusLength: 2048 },
      tokens: { accessTokenTtlSec: 900, maxChainDepth: 8, clockToleranceSec: 30 },
    })
  })

  it('lets overrides win over the environment', () => {
    expect(loadConfig({ env: { MESHGUARD_PORT: '6000' }, overrides: { port: 0 } }).port).toBe(0)
  })

  it('validates values that came from the environment', () => {
    const err = thrown(() => loadConfig({ env: { MESHGUARD_ACCESS_TOKEN_TTL: 'ten minutes' } }))
    expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID' })
    expect((err as Error).message).toContain('  - tokens.accessTokenTtlSec: ')
  })

  it.each([
    ['a missing file', (): string => join(root, 'absent.json'), 'cannot read configuration file'],
    ['a file that is not JSON', (): string => writeConfig('{ port: 4000 }'), 'is not valid JSON'],
    ['a file holding an array', (): string => writeConfig([]), 'is not valid JSON: the top level must be an object'],
  ])('refuses %s', (_, file, message) => {
    const err = thrown(() => loadConfig({ file: file(), env: {} }))
    expect(err).toBeInstanceOf(MeshguardError)
    expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID' })
    expect((err as Error).message).toContain(message)
  })
})

describe('values that must not slip through as defaults or zero', () => {
  it.each([
    ['port null', { port: null }, 'port'],
    ['port blank', { port: ' ' }, 'port'],
    ['publishAheadSec null', { signing: { publishAheadSec: null } }, 'signing.publishAheadSec'],
    ['misspelt nested option', { tokens: { acessTokenTtlSec: 60 } }, 'tokens'],
    ['unknown signing option', { signing: { curve: 'P-384' } }, 'signing'],
  ])('refuses %s', (_name, input, path) => {
    const err = thrown(() => parseConfig(input))
    expect(err).toBeInstanceOf(MeshguardError)
    expect((err as MeshguardError).message).toContain(`  - ${path}`)
  })
})

describe('issuer when listening beyond loopback', () => {
  it('is required, and reported beside other problems', () => {
    const err = thrown(() => parseConfig({ host: '0.0.0.0', port: 'x' }))
    expect((err as MeshguardError).message).toContain('  - issuer: is required when the server listens on a non-loopback host')
    expect((err as MeshguardError).message).toContain('  - port')
  })

  it('is derived on loopback', () => {
    expect(parseConfig({ host: '127.0.0.1' }).issuer).toBeUndefined()
    expect(parseConfig({ host: '0.0.0.0', issuer: 'https://auth.example.com' }).issuer).toBe('https://auth.example.com')
  })
})

describe('mtls (RFC 8705 listener)', () => {
  const files = { certFile: 'server.pem', keyFile: 'server.key', caFile: 'bundle.pem' }

  it('is off by default, and fills in its documented defaults when set', () => {
    expect(parseConfig({}).mtls).toBeUndefined()
    expect(parseConfig({ mtls: files }).mtls).toStrictEqual({ port: 4443, reloadIntervalSec: 10, ...files })
  })

  it('requires the certificate, key and trust bundle files, reporting all three', () => {
    const message = refusal({ mtls: { port: 8443 } })
    for (const path of ['mtls.certFile', 'mtls.keyFile', 'mtls.caFile']) expect(message).toContain(`\n  - ${path}: `)
  })

  it.each([
    ['an http origin', { origin: 'http://127.0.0.1:4443' }, '  - mtls.origin: must be an https URL'],
    ['an origin with a path', { origin: 'https://auth-mtls.example.com/tenant-a' }, "  - mtls.origin: must be an origin, https://host[:port]: the endpoints keep the issuer's path"],
    ['an origin with a query', { origin: 'https://auth-mtls.example.com?a=1' }, '  - mtls.origin: must be an origin'],
    ['a relative URL', { origin: 'auth-mtls.example.com' }, '  - mtls.origin: must be an absolute URL'],
    ['credentials', { origin: 'https://user:pw@auth-mtls.example.com' }, '  - mtls.origin: must not carry credentials'],
    ['a non-loopback host without an origin', { host: '0.0.0.0' }, '  - mtls.origin: is required when the mutual-TLS listener is on a non-loopback host'],
    ['the port of the plain listener', { port: 4000 }, '  - mtls.port: must differ from port'],
    ['an unknown option', { crl: 'crl.pem' }, '  - mtls: Unrecognized key: "crl"'],
  ])('refuses %s', (_name, mtls, message) => {
    expect(refusal({ mtls: { ...files, ...mtls } })).toContain(message)
  })

  it('reports a missing mtls.origin beside other problems', () => {
    const message = refusal({ port: 'x', mtls: { ...files, host: '10.0.0.7' } })
    expect(message).toContain('\n  - port: ')
    expect(message).toContain('\n  - mtls.origin: is required')
  })

  it('accepts a public listener with its origin, and a port shared with the plain listener on another address', () => {
    const origin = 'https://auth-mtls.example.com:8443/'
    expect(parseConfig({ mtls: { ...files, host: '0.0.0.0', origin } }).mtls).toMatchObject({ host: '0.0.0.0', origin })
    expect(parseConfig({ mtls: { ...files, host: '127.0.0.2', port: 4000 } }).mtls?.port).toBe(4000)
  })

  it('is read from the environment', () => {
    const config = loadConfig({
      env: {
        MESHGUARD_MTLS_PORT: '8443',
        MESHGUARD_MTLS_CERT_FILE: 'server.pem',
        MESHGUARD_MTLS_KEY_FILE: 'server.key',
        MESHGUARD_MTLS_CA_FILE: 'bundle.pem',
        MESHGUARD_MTLS_CRL_FILE: 'crl.pem',
      },
    })
    expect(config.mtls).toStrictEqual({ port: 8443, reloadIntervalSec: 10, ...files, crlFile: 'crl.pem' })
  })
})
