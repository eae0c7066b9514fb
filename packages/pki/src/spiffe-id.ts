/** A parsed SPIFFE ID: `spiffe://<trustDomain><path>`. */
export interface SpiffeId {
  readonly trustDomain: string
  /** Begins with `/`; empty for the trust domain's own ID. */
  readonly path: string
  /** The whole ID, as it appears in a certificate's URI SAN. */
  readonly uri: string
}

/** SPIFFE-ID §2.1: lowercase letters, digits, `.`, `-` and `_`. */
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/
/** SPIFFE-ID §2.2: each segment letters, digits, `.`, `-` and `_`; none empty, `.` or `..`. */
const SEGMENT = /^[A-Za-z0-9._-]+$/
const MAX_LENGTH = 2048

/**
 * Parses a SPIFFE ID strictly (SPIFFE-ID §2): scheme `spiffe` in lower case, a trust domain and
 * no port, userinfo, query, fragment, percent-encoding, empty or dot segments, or trailing slash.
 * Returns the reason it is not one as a string, so callers can say why.
 *
 * @example
 * const id = parseSpiffeId('spiffe://example.org/ns/shop/sa/orders')
 * if (typeof id === 'string') throw new Error(id)
 */
export function parseSpiffeId(value: string): SpiffeId | string {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return 'a SPIFFE ID is a string of at most 2048 characters'
  if (!value.startsWith('spiffe://')) return 'a SPIFFE ID starts with spiffe://'
  const rest = value.slice('spiffe://'.length)
  const slash = rest.indexOf('/')
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash)
  const path = slash < 0 ? '' : rest.slice(slash)
  if (!TRUST_DOMAIN.test(trustDomain)) return `the trust domain "${trustDomain}" may hold only lowercase letters, digits, ".", "-" and "_"`
  if (path === '') return { trustDomain, path, uri: value }
  const segments = path.slice(1).split('/')
  if (segments.some((segment) => !SEGMENT.test(segment) || segment === '.' || segment === '..')) {
    return 'each path segment of a SPIFFE ID is non-empty, not "." or "..", and holds only letters, digits, ".", "-" and "_"'
  }
  return { trustDomain, path, uri: value }
}

/** {@link parseSpiffeId}, throwing a `TypeError` with the reason instead of returning it. */
export function spiffeId(value: string): SpiffeId {
  const id = parseSpiffeId(value)
  if (typeof id === 'string') throw new TypeError(`${JSON.stringify(value)} is not a SPIFFE ID: ${id}`)
  return id
}

/** Whether `name` can be a trust domain (SPIFFE-ID §2.1). */
export function isTrustDomain(name: string): boolean {
  return TRUST_DOMAIN.test(name)
}
