import { describe, expect, it } from 'vitest'
import { thrown } from '../../test/helpers/thrown.js'
import { InvalidRequest } from '../errors.js'
import { FormParams } from './form-params.js'


describe('FormParams.parse', () => {
  describe('refuses a parameter sent more than once (RFC 6749 §3.1)', () => {
    it.each([
      ['grant_type twice', 'grant_type=client_credentials&grant_type=password', 'grant_type'],
      ['scope twice with the same value', 'scope=a&scope=a', 'scope'],
      ['client_id twice, far apart', 'client_id=a&scope=x&resource=r&client_id=b', 'client_id'],
      ['a repeat whose first value is empty', 'scope=&scope=a', 'scope'],
      ['a repeat whose name is percent-encoded', 'grant%5Ftype=a&grant_type=b', 'grant_type'],
      ['subject_token twice', 'subject_token=t1&subject_token=t2', 'subject_token'],
    ])('%s', (_, body, name) => {
      const err = thrown(() => FormParams.parse(body))
      expect(err).toBeInstanceOf(InvalidRequest)
      expect(err).toMatchObject({ error: 'invalid_request', status: 400 })
      expect((err as InvalidRequest).message).toContain(`"${name}"`)
    })
  })

  it.each(['resource', 'audience'])('lets %s repeat and keeps the values in order (RFC 8707 §2, RFC 8693 §2.1)', (name) => {
    const params = FormParams.parse(`${name}=https%3A%2F%2Fb.example&grant_type=x&${name}=https%3A%2F%2Fa.example&${name}=urn%3Ac`)
    expect(params.getAll(name)).toEqual(['https://b.example', 'https://a.example', 'urn:c'])
    expect(params.get(name)).toBe('https://b.example')
  })

  describe('treats a parameter without a value as omitted (RFC 6749 §3.1)', () => {
    it.each([
      ['an empty value', 'scope=&client_id=c', 'scope'],
      ['a name without "="', 'scope&client_id=c', 'scope'],
      ['a repeatable parameter whose values are all empty', 'resource=&resource=&client_id=c', 'resource'],
    ])('%s', (_, body, name) => {
      const params = FormParams.parse(body)
      expect(params.has(name)).toBe(false)
      expect(params.get(name)).toBeUndefined()
      expect(params.getAll(name)).toEqual([])
      expect(params.get('client_id')).toBe('c')
    })

    it('drops only the empty values of a repeatable parameter', () => {
      const params = FormParams.parse('audience=&audience=a&audience=&audience=b')
      expect(params.getAll('audience')).toEqual(['a', 'b'])
    })
  })

  it.each([
    ['"+" as a space', 'scope=orders%3Aread+orders%3Awrite', 'scope', 'orders:read orders:write'],
    ['%20 as a space', 'scope=a%20b', 'scope', 'a b'],
    ['%2B as a plus sign', 'client_secret=a%2Bb', 'client_secret', 'a+b'],
    ['a percent-encoded URL', 'resource=https%3A%2F%2Fapi.example%2Fv1%3Fx%3D1', 'resource', 'https://api.example/v1?x=1'],
    ['UTF-8 percent-encoding', 'sub=%C3%A9t%C3%A9', 'sub', 'été'],
    ['a percent-encoded name', 'client%5Fid=c', 'client_id', 'c'],
    ['"=" inside a value', 'subject_token=a.b.c%3D%3D', 'subject_token', 'a.b.c=='],
  ])('decodes %s', (_, body, name, value) => {
    expect(FormParams.parse(body).get(name)).toBe(value)
  })

  it('parses an empty body to no parameters', () => {
    expect(FormParams.parse('').has('grant_type')).toBe(false)
    expect(FormParams.empty().getAll('resource')).toEqual([])
  })
})

describe('FormParams.require', () => {
  it('returns the value', () => {
    expect(FormParams.parse('grant_type=client_credentials').require('grant_type')).toBe('client_credentials')
  })

  it.each([
    ['missing', 'client_id=c'],
    ['empty', 'grant_type=&client_id=c'],
  ])('throws invalid_request naming a %s parameter', (_, body) => {
    const err = thrown(() => FormParams.parse(body).require('grant_type'))
    expect(err).toBeInstanceOf(InvalidRequest)
    expect(err).toMatchObject({ error: 'invalid_request', status: 400, message: 'missing required parameter "grant_type"' })
  })
})
