import { describe, expect, it } from 'vitest'
import { VerificationError } from '../errors.js'
import { GrpcMethods, type GrpcMethodPolicy } from './grpc-methods.js'

describe('GrpcMethods', () => {
  const methods = new GrpcMethods({
    '/shop.SensorService/GetReading': { scopes: ['sensor.read', 'sensor.read'] },
    '/shop.SensorService/Feed': { scopes: [] },
    '/shop.PaymentService/Pay': { scopes: ['payment.write'], chain: ['order-service', 'cart-service'] },
    '/grpc.health.v1.Health/Check': { public: true },
  })

  it('gives each listed method its policy', () => {
    expect(methods.match('/shop.SensorService/GetReading')).toEqual({ path: '/shop.SensorService/GetReading', public: false, alternatives: [['sensor.read']], chain: undefined })
    expect(methods.match('/shop.SensorService/Feed').alternatives).toEqual([[]])
    expect(methods.match('/shop.PaymentService/Pay').chain).toEqual(['order-service', 'cart-service'])
    expect(methods.match('/grpc.health.v1.Health/Check')).toMatchObject({ public: true, alternatives: [] })
  })

  it.each(['/shop.SensorService/Delete', '/shop.sensorservice/getreading', 'shop.SensorService/GetReading', '/shop.SensorService/GetReading/'])(
    'refuses %s, which it does not list',
    (path) => {
      const error = (() => {
        try {
          methods.match(path)
        } catch (err) {
          return err
        }
      })()
      expect(error).toBeInstanceOf(VerificationError)
      expect((error as VerificationError).code).toBe('ERR_ROUTE_UNKNOWN')
    },
  )

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['no leading slash', { 'shop.S/M': { scopes: [] } }, 'shop.S/M: a method is named by its full path, /package.Service/Method'],
    ['no method', { '/shop.S': { scopes: [] } }, '/shop.S: a method is named by its full path'],
    ['neither scopes nor public', { '/shop.S/M': {} }, '/shop.S/M: give exactly one of scopes and public: true'],
    ['both scopes and public', { '/shop.S/M': { scopes: ['a'], public: true } }, '/shop.S/M: give exactly one of scopes and public: true'],
    ['public: false', { '/shop.S/M': { public: false } }, '/shop.S/M: public must be true when given'],
    ['a scope that is not a string', { '/shop.S/M': { scopes: [1] } }, '/shop.S/M: scopes must be a list of scope names'],
    ['scopes as a string', { '/shop.S/M': { scopes: 'a b' } }, '/shop.S/M: scopes must be a list of scope names'],
    ['an empty chain', { '/shop.S/M': { scopes: [], chain: [] } }, '/shop.S/M: chain must be a non-empty list of client ids'],
    ['a public method with a chain', { '/shop.S/M': { public: true, chain: ['a'] } }, '/shop.S/M: a public method cannot require a chain'],
  ]

  it.each(invalid)('refuses a policy with %s', (_name, policies, message) => {
    expect(() => new GrpcMethods(policies as Record<string, GrpcMethodPolicy>)).toThrow(message)
  })

  it('reports every bad entry at once', () => {
    expect(() => new GrpcMethods({ '/a.S/M': {}, b: { scopes: [] } })).toThrow(
      'invalid gRPC method policies:\n/a.S/M: give exactly one of scopes and public: true\nb: a method is named by its full path, /package.Service/Method',
    )
  })

  it('finds the methods of a service that have no policy', () => {
    const service = { GetReading: { path: '/shop.SensorService/GetReading' }, Reset: { path: '/shop.SensorService/Reset' }, Wipe: { path: '/shop.SensorService/Wipe' } }
    expect(() => {
      methods.assertCovers(service)
    }).toThrow('no policy for gRPC methods: /shop.SensorService/Reset, /shop.SensorService/Wipe')
    expect(() => {
      methods.assertCovers({ Feed: { path: '/shop.SensorService/Feed' } })
    }).not.toThrow()
  })
})
