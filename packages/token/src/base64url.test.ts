import { randomBytes, randomInt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodeBase64url } from './base64url.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** The definition: canonical means decoding and re-encoding gives the same text. */
function canonical(segment: string): boolean {
  return segment.length % 4 !== 1 && /^[A-Za-z0-9_-]*$/.test(segment) && Buffer.from(segment, 'base64url').toString('base64url') === segment
}

describe('decodeBase64url', () => {
  it('accepts exactly the canonical encodings, on 20,000 random strings of every length class', () => {
    for (let i = 0; i < 20_000; i += 1) {
      const length = randomInt(0, 24)
      const segment = Array.from({ length }, () => ALPHABET[randomInt(0, 64)]).join('')
      const decoded = decodeBase64url(segment)
      expect(decoded !== undefined, segment).toBe(canonical(segment))
      if (decoded) expect(decoded.toString('base64url')).toBe(segment)
    }
  })

  it('round-trips random bytes', () => {
    for (let length = 0; length < 64; length += 1) {
      const bytes = randomBytes(length)
      expect(decodeBase64url(bytes.toString('base64url'))).toEqual(bytes)
    }
  })

  it.each([
    ['padding', 'QQ=='],
    ['standard alphabet +', 'a+b/'],
    ['whitespace', 'QU FB'],
    ['a lone trailing character', 'QUFBQ'],
    ['non-zero unused bits after one byte', 'QR'],
    ['non-zero unused bits after two bytes', 'QUF'],
  ])('refuses %s', (_name, segment) => {
    expect(decodeBase64url(segment)).toBeUndefined()
  })
})
