import { connectionProtectedHeaders, gatewaySetHeaders, hopByHopHeaders, identityHeaderPrefixes, identityHeaders } from './header-lists.js'

const DROP = 0
const AUTHORIZATION = 1
const HOST = 2
const CONNECTION = 3
const CONTENT_LENGTH = 4
const TRANSFER_ENCODING = 5
const ORIGIN = 6
const PREFLIGHT_METHOD = 7
const PREFLIGHT_HEADERS = 8
const TRACEPARENT = 9
const TRACESTATE = 10
const FORWARDED_FOR = 11
const FORWARDED_PROTO = 12
const FORWARDED_HOST = 13

/** What each header the gateway cares about is; any other is forwarded as it came. */
const KINDS = new Map<string, number>([
  ...[...hopByHopHeaders, ...gatewaySetHeaders, ...identityHeaders].map((name) => [name, DROP] as const),
  ['authorization', AUTHORIZATION],
  ['host', HOST],
  ['connection', CONNECTION],
  ['content-length', CONTENT_LENGTH],
  ['transfer-encoding', TRANSFER_ENCODING],
  ['origin', ORIGIN],
  ['access-control-request-method', PREFLIGHT_METHOD],
  ['access-control-request-headers', PREFLIGHT_HEADERS],
  ['traceparent', TRACEPARENT],
  ['tracestate', TRACESTATE],
  ['x-forwarded-for', FORWARDED_FOR],
  ['x-forwarded-proto', FORWARDED_PROTO],
  ['x-forwarded-host', FORWARDED_HOST],
])
const PROTECTED = new Set<string>(connectionProtectedHeaders)

/** A request's headers, read in one pass: what the gateway needs from them, and the rest to forward. */
export class RequestHeaders {
  /** Headers to forward as they came (name, value, name, value…), client-set gateway and identity headers removed. */
  forward: string[] = []
  authorization: string | undefined = undefined
  authorizationCount = 0
  host: string | undefined = undefined
  hostCount = 0
  /** HTTP/2's `:authority`, which stands for `Host` (RFC 9113 §8.3.1). */
  authority: string | undefined = undefined
  contentLength: string | undefined = undefined
  /** A `Transfer-Encoding` came: the body is chunked (HTTP/1.1). */
  chunked = false
  origin: string | undefined = undefined
  preflightMethod: string | undefined = undefined
  preflightHeaders: string | undefined = undefined
  traceparent: string | undefined = undefined
  traceparentCount = 0
  tracestate: string | undefined = undefined
  /** Only read behind trusted proxies. */
  forwardedFor: string | undefined = undefined
  forwardedProto: string | undefined = undefined
  forwardedHost: string | undefined = undefined
}

/**
 * Reads the raw headers (repeated ones stay visible) and sorts them: the hop-by-hop ones
 * (RFC 9110 §7.6.1), those the gateway sets itself, and identity headers are dropped; names
 * listed in `Connection` are dropped too, except the protected ones; everything else is kept in
 * order, names and values untouched. HTTP/2 pseudo-headers are skipped.
 */
export function readRequestHeaders(raw: readonly string[], trustProxy: boolean): RequestHeaders {
  const headers = new RequestHeaders()
  const { forward } = headers
  let connection: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    const value = raw[i + 1]!
    if (name.charCodeAt(0) === 0x3a) {
      if (name === ':authority') headers.authority = value
      continue
    }
    const lower = name.toLowerCase()
    const kind = KINDS.get(lower)
    if (kind === undefined) {
      if (!isIdentityFamily(lower)) forward.push(name, value)
      continue
    }
    switch (kind) {
      case AUTHORIZATION:
        headers.authorizationCount += 1
        headers.authorization = value
        break
      case HOST:
        headers.hostCount += 1
        headers.host = value
        break
      case CONNECTION:
        connection = connection === undefined ? value : `${connection},${value}`
        break
      case CONTENT_LENGTH:
        headers.contentLength = value
        forward.push(name, value)
        break
      case TRANSFER_ENCODING:
        headers.chunked = true
        break
      case ORIGIN:
        headers.origin = value
        forward.push(name, value)
        break
      case PREFLIGHT_METHOD:
        headers.preflightMethod = value
        forward.push(name, value)
        break
      case PREFLIGHT_HEADERS:
        headers.preflightHeaders = value
        forward.push(name, value)
        break
      case TRACEPARENT:
        headers.traceparentCount += 1
        headers.traceparent = value
        break
      case TRACESTATE:
        headers.tracestate = headers.tracestate === undefined ? value : `${headers.tracestate},${value}`
        break
      case FORWARDED_FOR:
        if (trustProxy) headers.forwardedFor = headers.forwardedFor === undefined ? value : `${headers.forwardedFor}, ${value}`
        break
      case FORWARDED_PROTO:
        if (trustProxy) headers.forwardedProto ??= value
        break
      case FORWARDED_HOST:
        if (trustProxy) headers.forwardedHost ??= value
        break
      default:
        break
    }
  }
  if (connection !== undefined) dropConnectionOptions(forward, connection)
  return headers
}

function isIdentityFamily(lower: string): boolean {
  if (lower.charCodeAt(0) !== 0x78 || lower.charCodeAt(1) !== 0x2d) return false
  for (const prefix of identityHeaderPrefixes) if (lower.startsWith(prefix)) return true
  return false
}

/** RFC 9110 §7.6.1: the names a `Connection` header lists are hop-by-hop too, and removed. */
function dropConnectionOptions(forward: string[], connection: string): void {
  const named = new Set<string>()
  for (const token of connection.split(',')) {
    const option = token.trim().toLowerCase()
    if (option !== '' && option !== 'close' && option !== 'keep-alive' && !PROTECTED.has(option)) named.add(option)
  }
  if (named.size === 0) return
  let kept = 0
  for (let i = 0; i < forward.length; i += 2) {
    if (named.has(forward[i]!.toLowerCase())) continue
    forward[kept] = forward[i]!
    forward[kept + 1] = forward[i + 1]!
    kept += 2
  }
  forward.length = kept
}
