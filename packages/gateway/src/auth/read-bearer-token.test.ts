import { VerificationError } from '@meshguard/service-kit'
import { describe, expect, it } from 'vitest'
import { isBearerTokenSyntax, readBearerToken } from './read-bearer-token.js'

describe('readBearerToken (RFC 6750 §2.1)', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BeArEr abc', 'abc'],
    ['Bearer   abc', 'abc'],
    ['Bearer abc def', 'abc def'],
  ])('reads %j', (value, token) => {
    expect(readBearerToken(value)).toBe(token)
  })

  it.each([
    [undefined, 'ERR_TOKEN_MISSING'],
    ['Basic abc', 'ERR_TOKEN_MALFORMED'],
    ['Bearer', 'ERR_TOKEN_MALFORMED'],
    ['Bearer ', 'ERR_TOKEN_MALFORMED'],
    ['Bearer\tabc', 'ERR_TOKEN_MALFORMED'],
    ['Bearerabc', 'ERR_TOKEN_MALFORMED'],
    ['Bearer-x abc', 'ERR_TOKEN_MALFORMED'],
    ['abc', 'ERR_TOKEN_MALFORMED'],
  ])('refuses %j', (value, code) => {
    const error = (() => {
      try {
        readBearerToken(value)
      } catch (err) {
        return err
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(VerificationError)
    expect((error as VerificationError).code).toBe(code)
  })

  it.each([
    ['eyJ.eyJ.sig-_', true],
    ['abc+/~.==', true],
    ['a=b', false],
    ['abc def', false],
    ['abc!', false],
    ['', false],
    ['==', false],
  ])('b64token syntax of %j: %s', (token, ok) => {
    expect(isBearerTokenSyntax(token)).toBe(ok)
  })
})
