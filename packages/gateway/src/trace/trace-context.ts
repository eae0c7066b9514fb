const ZERO_TRACE = '0'.repeat(32)
const ZERO_SPAN = '0'.repeat(16)

/**
 * The trace id and flags of a valid `traceparent` (W3C Trace Context §3.2.2); `undefined` for
 * anything else, and the gateway then starts a new trace.
 *
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') // { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', flags: '01' }
 */
export function parseTraceparent(value: string): { traceId: string; flags: string } | undefined {
  // §3.2.4: a version above 00 may append fields after a '-'; version ff is invalid.
  if (value.length < 55 || (value.length > 55 && value.charCodeAt(55) !== 0x2d)) return undefined
  if (value.charCodeAt(2) !== 0x2d || value.charCodeAt(35) !== 0x2d || value.charCodeAt(52) !== 0x2d) return undefined
  const version = value.slice(0, 2)
  const traceId = value.slice(3, 35)
  const parentId = value.slice(36, 52)
  const flags = value.slice(53, 55)
  if (!isLowerHex(version) || version === 'ff' || (version === '00' && value.length !== 55)) return undefined
  if (!isLowerHex(traceId) || traceId === ZERO_TRACE || !isLowerHex(parentId) || parentId === ZERO_SPAN || !isLowerHex(flags)) return undefined
  return { traceId, flags }
}

function isLowerHex(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i)
    if (!((code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x66))) return false
  }
  return true
}
