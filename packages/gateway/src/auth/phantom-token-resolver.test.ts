import { describe, expect, it } from 'vitest'
import { isJwt } from './phantom-token-resolver.js'

describe('telling a JWT from an opaque token', () => {
  it.each([
    ['a JWS compact serialisation', 'aaa.bbb.ccc', true],
    ['empty parts, still two dots', '..', true],
    ['a reference token', 'mgat_abcdef', false],
    ['one dot', 'abc.def', false],
    ['three dots', 'a.b.c.d', false],
    ['a JWE (four dots)', 'a.b.c.d.e', false],
    ['no dot', 'opaque', false],
  ])('%s', (_name, token, expected) => {
    expect(isJwt(token)).toBe(expected)
  })
})
