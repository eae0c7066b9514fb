import { describe, expect, it } from 'vitest'
import { openJwt, sealJwt } from './seal-jwt.js'
import { phantomTokenId } from './token-id.js'

describe('sealing the JWT an opaque token stands for', () => {
  const token = 'mgat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
  const id = phantomTokenId(token)
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln'

  it('opens with the token it was sealed under, and holds neither the token nor the JWT', () => {
    const sealed = sealJwt(jwt, token, id)
    expect(openJwt(sealed, token, id)).toBe(jwt)
    expect(sealed).not.toContain(jwt)
    expect(sealed).not.toContain(token)
    expect(id).not.toContain(token)
    expect(sealJwt(jwt, token, id)).not.toBe(sealed)
  })

  const other = 'mgat_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
  it.each([
    ['another token', (sealed: string) => openJwt(sealed, other, id)],
    ["another token's id (an entry moved)", (sealed: string) => openJwt(sealed, token, phantomTokenId(other))],
    ['a flipped ciphertext byte', (sealed: string) => openJwt(sealed.replace(/\.(.)/, (_, c: string) => `.${c === 'A' ? 'B' : 'A'}`), token, id)],
    ['an unknown version', (sealed: string) => openJwt(sealed.replace(/^v1/, 'v2'), token, id)],
    ['a truncated value', (sealed: string) => openJwt(sealed.split('.').slice(0, 3).join('.'), token, id)],
    ['junk', () => openJwt('not sealed', token, id)],
  ])('does not open with %s', (_name, attempt) => {
    expect(attempt(sealJwt(jwt, token, id))).toBeUndefined()
  })
})
