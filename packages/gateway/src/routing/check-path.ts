import { GatewayError } from '../errors.js'

/**
 * Refuses a path that means something else to the upstream than to the route table: not
 * starting with `/` (absolute-form and `*` targets), or holding a `.` or `..` segment (RFC 3986
 * §5.2.4), raw or hidden behind `%2e`, `%2f`, `%5c` or `\`, which would let `/public/../admin`
 * match `/public` and reach `/admin`.
 *
 * @throws GatewayError `ERR_TARGET_INVALID`
 */
export function checkPath(path: string): void {
  if (path.charCodeAt(0) !== 0x2f) throw new GatewayError('ERR_TARGET_INVALID', 'the request target must be a path starting with /')
  // Most paths hold none of these: no further look.
  if (path.indexOf('.') < 0 && path.indexOf('%') < 0 && path.indexOf('\\') < 0) return
  const plain = path.replace(/%2e/gi, '.').replace(/%2f|%5c|\\/gi, '/')
  for (const segment of plain.split('/')) {
    if (segment === '.' || segment === '..') throw new GatewayError('ERR_TARGET_INVALID', 'the path must not contain . or .. segments')
  }
}

/**
 * The host name a request is for, lower case and without the port, from `Host` (HTTP/1.1) or
 * `:authority` (HTTP/2); `undefined` when none came.
 *
 * @throws GatewayError `ERR_HOST_INVALID` for a malformed one
 */
export function hostName(authority: string | undefined): string | undefined {
  if (authority === undefined || authority === '') return undefined
  let end = authority.length
  if (authority.charCodeAt(0) === 0x5b) {
    end = authority.indexOf(']') + 1
    if (end === 0) throw new GatewayError('ERR_HOST_INVALID', 'the host is not well-formed')
  } else {
    const colon = authority.indexOf(':')
    if (colon >= 0) end = colon
  }
  return authority.slice(0, end).toLowerCase()
}
