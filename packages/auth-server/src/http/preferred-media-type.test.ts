import { describe, expect, it } from 'vitest'
import { preferredMediaType } from './preferred-media-type.js'

const JSON_TYPE = 'application/json'
const JWT = 'application/jwt'
const SIGNED = 'application/token-introspection+jwt'
const OFFERED = [JSON_TYPE, SIGNED, JWT] as const

describe('preferredMediaType (RFC 9110 §12.5.1)', () => {
  it.each([
    ['no Accept header', undefined, JSON_TYPE],
    ['an empty Accept header', '  ', JSON_TYPE],
    ['*/*', '*/*', JSON_TYPE],
    ['application/*', 'application/*', JSON_TYPE],
    ['exactly application/jwt', JWT, JWT],
    ['exactly the RFC 9701 type', SIGNED, SIGNED],
    ['upper case and spaces', ' Application/JWT ', JWT],
    ['a specific type beside */*', `*/*, ${JWT}`, JWT],
    ['a specific type beside application/*', `application/*;q=1, ${SIGNED}`, SIGNED],
    ['the higher quality', `${JWT};q=0.4, ${SIGNED};q=0.9`, SIGNED],
    ['the first listed among equal qualities', `${JWT}, ${JSON_TYPE}`, JWT],
    ['the first listed, other order', `${JSON_TYPE}, ${JWT}`, JSON_TYPE],
    ['a quality with spaces around =', `${JWT};q = 0.2, ${SIGNED}; q=0.3`, SIGNED],
    ['parameters other than q ignored', `${JSON_TYPE}; charset=utf-8`, JSON_TYPE],
    ['*/* without the refused type', `${JSON_TYPE};q=0, */*`, SIGNED],
  ])('%s', (_name, accept, expected) => {
    expect(preferredMediaType(accept, OFFERED)).toBe(expected)
  })

  it.each([
    ['an unrelated type', 'text/html'],
    ['every offer refused with q=0', `${JWT};q=0, ${JSON_TYPE};q=0, ${SIGNED};q=0.000`],
    ['*/* refused', '*/*;q=0'],
    ['only malformed ranges', 'application, /jwt, */jwt, application/jwt;q=2, application/jwt;q=0.1234, application/jwt;q=abc'],
  ])('accepts none of the offers for %s', (_name, accept) => {
    expect(preferredMediaType(accept, OFFERED)).toBeUndefined()
  })

  it('takes the most specific range for a type even when a vaguer one ranks it higher', () => {
    expect(preferredMediaType(`*/*;q=1, ${JWT};q=0.1`, [JWT, SIGNED])).toBe(SIGNED)
  })
})
