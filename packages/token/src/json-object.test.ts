import { describe, expect, it } from 'vitest'
import { parseJsonObject } from './json-object.js'

describe('parseJsonObject', () => {
  it.each([
    ['a flat object', '{"alg":"ES256","kid":"a"}', { alg: 'ES256', kid: 'a' }],
    ['nested objects with repeated inner names', '{"act":{"sub":"a","act":{"sub":"b"}},"sub":"c"}', { act: { sub: 'a', act: { sub: 'b' } }, sub: 'c' }],
    ['escaped quotes and colons inside strings', '{"a":"x\\":y","b":"\\\\"}', { a: 'x":y', b: '\\' }],
    ['whitespace around colons', '{ "a" : 1 , "b" :[1,{"a":2}] }', { a: 1, b: [1, { a: 2 }] }],
    ['an empty object', '{}', {}],
  ])('accepts %s', (_name, text, expected) => {
    expect(parseJsonObject(text)).toEqual(expected)
  })

  it.each([
    ['a duplicate top-level name', '{"sub":"alice","sub":"admin"}'],
    ['a duplicate name spelt with an escape', '{"sub":"alice","s\\u0075b":"admin"}'],
    ['an array', '[{"a":1}]'],
    ['a number', '5'],
    ['null', 'null'],
    ['invalid JSON', '{"a":'],
  ])('refuses %s', (_name, text) => {
    expect(parseJsonObject(text)).toBeUndefined()
  })
})
