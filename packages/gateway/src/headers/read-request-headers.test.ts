import { describe, expect, it } from 'vitest'
import { readRequestHeaders } from './read-request-headers.js'

describe('readRequestHeaders', () => {
  it('keeps ordinary headers as they came and drops hop-by-hop, gateway-set and identity ones', () => {
    const headers = readRequestHeaders(
      ['Host', 'a.example', 'Accept', 'text/html', 'Connection', 'keep-alive', 'TE', 'trailers', 'X-Request-Id', 'x', 'X-Meshguard-Caller', 'y', 'x-authenticated-user', 'z', 'X-Scope-Token', 't', 'Authorization', 'Bearer t', 'X-Custom', 'kept'],
      false,
    )
    expect(headers.forward).toEqual(['Accept', 'text/html', 'X-Custom', 'kept'])
    expect(headers).toMatchObject({ host: 'a.example', hostCount: 1, authorization: 'Bearer t', authorizationCount: 1 })
  })

  it('drops what Connection names, except the protected headers', () => {
    const headers = readRequestHeaders(['X-A', '1', 'Content-Type', 'text/plain', 'Content-Length', '2', 'connection', 'x-a, Content-Type', 'Connection', 'content-length, close'], false)
    expect(headers.forward).toEqual(['Content-Type', 'text/plain', 'Content-Length', '2'])
  })

  it('reads X-Forwarded-* only behind trusted proxies', () => {
    const raw = ['X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'shop.example']
    expect(readRequestHeaders(raw, false)).toMatchObject({ forwardedFor: undefined, forwardedProto: undefined, forwardedHost: undefined, forward: [] })
    expect(readRequestHeaders(raw, true)).toMatchObject({ forwardedFor: '1.1.1.1, 2.2.2.2', forwardedProto: 'https', forwardedHost: 'shop.example', forward: [] })
  })

  it('skips HTTP/2 pseudo-headers, taking :authority', () => {
    const headers = readRequestHeaders([':method', 'GET', ':path', '/', ':authority', 'a.example:8443', ':scheme', 'https', 'accept', '*/*'], false)
    expect(headers.forward).toEqual(['accept', '*/*'])
    expect(headers.authority).toBe('a.example:8443')
  })

  it('counts repeated credentials and traceparents', () => {
    const headers = readRequestHeaders(['authorization', 'a', 'Authorization', 'b', 'traceparent', 'x', 'traceparent', 'y', 'tracestate', 'k=1', 'tracestate', 'l=2'], false)
    expect(headers).toMatchObject({ authorizationCount: 2, traceparentCount: 2, tracestate: 'k=1,l=2' })
  })
})
