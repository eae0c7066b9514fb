import { describe, expect, it } from 'vitest'
import { generateClientSecret, hashClientSecret, verifyClientSecret } from './client-secret.js'

describe('generateClientSecret', () => {
  it('returns 256 bits as 43 base64url characters', () => {
    const secret = generateClientSecret()
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32)
  })

  it('never repeats', () => {
    const secrets = Array.from({ length: 200 }, generateClientSecret)
    expect(new Set(secrets).size).toBe(secrets.length)
  })
})

describe('hashClientSecret / verifyClientSecret', () => {
  const secret = 'Q2xpZW50U2VjcmV0Rm9yVGVzdGluZ09ubHlfMDEyMzQ1'
  const stored = hashClientSecret(secret)
  const [scheme, salt, digest] = stored.split('$') as [string, string, string]

  it('stores sha256$<salt>$<digest> with a 16-byte salt and a 32-byte digest', () => {
    expect(scheme).toBe('sha256')
    expect(Buffer.from(salt, 'base64url')).toHaveLength(16)
    expect(Buffer.from(digest, 'base64url')).toHaveLength(32)
  })

  it('verifies the secret it hashed', () => {
    expect(verifyClientSecret(secret, stored)).toBe(true)
  })

  it('salts each hash, so the same secret hashes differently', () => {
    const again = hashClientSecret(secret)
    expect(again).not.toBe(stored)
    expect(again.split('$')[1]).not.toBe(salt)
    expect(verifyClientSecret(secret, again)).toBe(true)
  })

  const flipLast = (value: string): string => value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A')
  /** The first character carries six significant bits; the last one of base64url may carry padding bits only. */
  const flipFirst = (value: string): string => (value.startsWith('A') ? 'B' : 'A') + value.slice(1)

  it.each([
    ['a different secret', generateClientSecret(), stored],
    ['an empty secret', '', stored],
    ['a secret of the same length differing in the last character', flipLast(secret), stored],
    ['a secret differing in case', secret.toLowerCase(), stored],
    ['the secret with a character appended', `${secret}x`, stored],
    ['a prefix of the secret', secret.slice(0, -1), stored],
    ['the secret with surrounding whitespace', ` ${secret}`, stored],
    ['the stored hash itself as the secret', stored, stored],
    ['the digest as the secret', digest, stored],
    ['another scheme', secret, `sha512$${salt}$${digest}`],
    ['the scheme in upper case', secret, `SHA256$${salt}$${digest}`],
    ['no scheme', secret, `$${salt}$${digest}`],
    ['no digest part', secret, `sha256$${salt}`],
    ['an empty digest', secret, `sha256$${salt}$`],
    ['only the scheme', secret, 'sha256'],
    ['an empty stored hash', secret, ''],
    ['a digest truncated by one character', secret, `sha256$${salt}$${digest.slice(0, -1)}`],
    ['a digest truncated to 16 bytes', secret, `sha256$${salt}$${Buffer.from(digest, 'base64url').subarray(0, 16).toString('base64url')}`],
    ['a digest with a changed character', secret, `sha256$${salt}$${flipFirst(digest)}`],
    ['another salt', secret, `sha256$${flipFirst(salt)}$${digest}`],
    ['no salt', secret, `sha256$$${digest}`],
    ['the parts in another order', secret, `sha256$${digest}$${salt}`],
  ])('refuses %s', (_, candidate, storedHash) => {
    expect(verifyClientSecret(candidate, storedHash)).toBe(false)
  })
})

describe('verifyClientSecret reads the stored format strictly', () => {
  const secret = generateClientSecret()
  const stored = hashClientSecret(secret)
  const [scheme, salt, digest] = stored.split('$') as [string, string, string]
  it.each([
    ['an extra field', `${stored}$extra`],
    ['a trailing character on the digest', `${stored}!`],
    ['padding on the digest', `${stored}=`],
    ['a salt with a trailing character', `${scheme}$${salt}!$${digest}`],
    ['the digest in standard base64', `${scheme}$${salt}$${Buffer.from(digest, 'base64url').toString('base64')}`],
  ])('refuses a stored hash with %s', (_name, tampered) => {
    expect(tampered).not.toBe(stored)
    expect(verifyClientSecret(secret, tampered)).toBe(false)
  })
})
