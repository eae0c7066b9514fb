import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CertificateAuthority, generateKeyPair, initCa, PkiError, x509, type PkiErrorCode } from '../src/index.js'
import { OpenSsl, P256 } from './openssl.js'

const ORDERS = 'spiffe://example.org/ns/shop/sa/orders'
const passphrase = 'correct horse battery staple'

describe('the certificate authority', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshguard-ca-'))
  const openssl = new OpenSsl()
  let ca: CertificateAuthority

  beforeAll(async () => {
    ca = await initCa({ dir, trustDomain: 'example.org', passphrase })
    openssl.write('bundle.pem', ca.trustBundlePem)
    openssl.write('intermediate.pem', ca.intermediate.toString('pem'))
  })
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
    openssl.cleanup()
  })

  it('keeps its private keys encrypted and readable by the owner only', () => {
    for (const file of ['root.key.pem', 'intermediate.key.pem']) {
      expect(readFileSync(join(dir, file), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/)
      expect(statSync(join(dir, file)).mode & 0o077).toBe(0)
    }
    // openssl opens them with the passphrase and not without it.
    expect(openssl.attempt(['pkey', '-in', join(dir, 'root.key.pem'), '-passin', `pass:${passphrase}`, '-noout']).ok).toBe(true)
    expect(openssl.attempt(['pkey', '-in', join(dir, 'root.key.pem'), '-passin', 'pass:wrong passphrase!!', '-noout']).ok).toBe(false)
  })

  it('makes a root and an intermediate that openssl accepts as a CA chain for the trust domain', () => {
    const root = openssl.run(['x509', '-in', join(dir, 'root.pem'), '-noout', '-text'])
    expect(root).toMatch(/CA:TRUE, pathlen:1/)
    expect(root).toMatch(/Certificate Sign, CRL Sign/)
    expect(root).toMatch(/ecdsa-with-SHA256/)
    expect(root).toMatch(/URI:spiffe:\/\/example\.org/)
    expect(openssl.run(['verify', '-CAfile', 'bundle.pem', 'intermediate.pem'])).toMatch(/intermediate\.pem: OK/)
    expect(ca.trustDomain).toBe('example.org')
  })

  it('issues, for a CSR made by openssl, a leaf that openssl verifies against the bundle', async () => {
    const csr = openssl.csr('orders', P256, [`subjectAltName=URI:${ORDERS}`])
    const issued = await ca.issue({ csr, identity: ORDERS, ttlSec: 3600 })
    openssl.write('orders.pem', issued.certificatePem)
    expect(openssl.run(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'intermediate.pem', '-purpose', 'sslclient', 'orders.pem'])).toMatch(/orders\.pem: OK/)
    expect(openssl.run(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'intermediate.pem', '-purpose', 'sslserver', 'orders.pem'])).toMatch(/orders\.pem: OK/)
    const text = openssl.run(['x509', '-in', 'orders.pem', '-noout', '-text'])
    expect(text).toMatch(/CA:FALSE/)
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\s/)
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/)
    expect(text.match(/URI:/g)).toHaveLength(1)
    expect(text).toContain(`URI:${ORDERS}`)
    // The key certified is the one openssl generated.
    const csrKey = openssl.run(['req', '-in', 'orders.csr', '-noout', '-pubkey'])
    expect(openssl.run(['x509', '-in', 'orders.pem', '-noout', '-pubkey'])).toBe(csrKey)
    expect(issued.notAfter.getTime() - Date.now()).toBeGreaterThan(3590_000)
    expect(issued.notAfter.getTime() - Date.now()).toBeLessThanOrEqual(3600_000)
    expect(issued.chainPem).toContain(ca.intermediate.toString('pem'))
  })

  it('issues for a CSR made with its own library, with the DNS names allowed', async () => {
    const keys = await generateKeyPair()
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: ORDERS }, { type: 'dns', value: 'orders.shop.svc' }])],
    })
    const issued = await ca.issue({ csr: csr.toString('pem'), identity: ORDERS, allowedDnsNames: ['orders.shop.svc'] })
    openssl.write('own.pem', issued.certificatePem)
    expect(openssl.run(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'intermediate.pem', 'own.pem'])).toMatch(/OK/)
    expect(openssl.run(['x509', '-in', 'own.pem', '-noout', '-ext', 'subjectAltName'])).toMatch(/DNS:orders\.shop\.svc/)
    // The default lifetime is 24 hours.
    expect(Math.round((issued.notAfter.getTime() - Date.now()) / 3_600_000)).toBe(24)
  })

  const san = (...names: string[]) => `subjectAltName=${names.join(',')}`
  const refusals: Array<[string, () => { csr: string; identity?: string; ttlSec?: number; allowedDnsNames?: string[] }, PkiErrorCode, RegExp]> = [
    ['another identity than the one authorised', () => ({ csr: openssl.csr('other', P256, [san('URI:spiffe://example.org/ns/shop/sa/payments')]) }), 'ERR_CSR_IDENTITY', /asks for spiffe:\/\/example\.org\/ns\/shop\/sa\/payments/],
    ['an identity in another trust domain', () => ({ csr: openssl.csr('foreign', P256, [san('URI:spiffe://evil.org/ns/shop/sa/orders')]), identity: 'spiffe://evil.org/ns/shop/sa/orders' }), 'ERR_CSR_IDENTITY', /not a workload of trust domain example\.org/],
    ['the trust domain itself as the identity', () => ({ csr: openssl.csr('td', P256, [san('URI:spiffe://example.org')]), identity: 'spiffe://example.org' }), 'ERR_CSR_IDENTITY', /not a workload/],
    ['two URI SANs', () => ({ csr: openssl.csr('two', P256, [san(`URI:${ORDERS}`, 'URI:spiffe://example.org/ns/shop/sa/admin')]) }), 'ERR_CSR_IDENTITY', /exactly one URI/],
    ['no SAN', () => ({ csr: openssl.csr('nosan', P256) }), 'ERR_CSR_IDENTITY', /exactly one subjectAltName/],
    ['CA:TRUE', () => ({ csr: openssl.csr('ca', P256, [san(`URI:${ORDERS}`), 'basicConstraints=critical,CA:TRUE']) }), 'ERR_CSR_CA', /CA:TRUE/],
    ['certificate signing usage', () => ({ csr: openssl.csr('signer', P256, [san(`URI:${ORDERS}`), 'keyUsage=critical,keyCertSign']) }), 'ERR_CSR_CA', /certificate or CRL signing/],
    ['a lifetime over the cap', () => ({ csr: openssl.csr('long', P256, [san(`URI:${ORDERS}`)]), ttlSec: 259_201 }), 'ERR_TTL', /from 2 to 259200 seconds/],
    ['a lifetime of zero', () => ({ csr: openssl.csr('zero', P256, [san(`URI:${ORDERS}`)]), ttlSec: 0 }), 'ERR_TTL', /not 0/],
    ['an RSA key of 1024 bits', () => ({ csr: openssl.csr('rsa1024', ['-newkey', 'rsa:1024'], [san(`URI:${ORDERS}`)]) }), 'ERR_CSR_KEY', /RSA of 1024 bits/],
    ['a secp256k1 key', () => ({ csr: openssl.csr('k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'], [san(`URI:${ORDERS}`)]) }), 'ERR_CSR_KEY', /curve secp256k1/],
    ['a bad signature', () => ({ csr: tamper(openssl.csr('tampered', P256, [san(`URI:${ORDERS}`)])) }), 'ERR_CSR_SIGNATURE', /does not verify/],
    ['a DNS name not allowed', () => ({ csr: openssl.csr('dns', P256, [san(`URI:${ORDERS}`, 'DNS:payments.shop.svc')]) }), 'ERR_CSR_SAN', /DNS name payments\.shop\.svc/],
    ['an IP address SAN', () => ({ csr: openssl.csr('ip', P256, [san(`URI:${ORDERS}`, 'IP:10.0.0.1')]) }), 'ERR_CSR_SAN', /ip name/],
    ['an e-mail SAN', () => ({ csr: openssl.csr('email', P256, [san(`URI:${ORDERS}`, 'email:a@example.org')]) }), 'ERR_CSR_SAN', /email name/],
    ['something that is not a CSR', () => ({ csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' }), 'ERR_CSR_MALFORMED', /not a PKCS#10/],
  ]

  it.each(refusals)('refuses a CSR with %s', async (_name, make, code, message) => {
    const { csr, identity = ORDERS, ...rest } = make()
    const error = await ca.issue({ csr, identity, ...rest }).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(error).toBeInstanceOf(PkiError)
    expect(error).toMatchObject({ code, message: expect.stringMatching(message) as unknown })
  })

  it('refuses a second init over an existing CA', async () => {
    await expect(initCa({ dir, trustDomain: 'example.org', passphrase })).rejects.toMatchObject({ code: 'ERR_CA_EXISTS' })
  })

  it('refuses to open the CA with the wrong passphrase', async () => {
    await expect(CertificateAuthority.load({ dir, passphrase: 'not the passphrase at all' })).rejects.toMatchObject({ code: 'ERR_CA_KEY' })
  })

  it('refuses to open a directory without a CA', async () => {
    await expect(CertificateAuthority.load({ dir: tmpdir(), passphrase })).rejects.toMatchObject({ code: 'ERR_CA_MISSING' })
  })

  it('opens again after a restart and issues under the same trust bundle', async () => {
    const reopened = await CertificateAuthority.load({ dir, passphrase })
    expect(reopened.trustBundlePem).toBe(ca.trustBundlePem)
    const issued = await reopened.issue({ csr: openssl.csr('again', P256, [san(`URI:${ORDERS}`)]), identity: ORDERS })
    openssl.write('again.pem', issued.certificatePem)
    expect(openssl.run(['verify', '-CAfile', 'bundle.pem', '-untrusted', 'intermediate.pem', 'again.pem'])).toMatch(/OK/)
  })
})

/** Flips one bit inside the signed part of a CSR, keeping it well-formed. */
function tamper(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
  const at = der.indexOf(Buffer.from('workload'))
  der[at] = der[at]! ^ 0x20
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`
}
