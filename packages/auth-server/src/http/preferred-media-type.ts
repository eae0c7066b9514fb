/** RFC 9110 §5.6.2 `token` characters, on both sides of the slash; `*` among them. */
const MEDIA_RANGE = /^[a-z0-9!#$%&'*+.^_`|~-]+\/[a-z0-9!#$%&'*+.^_`|~-]+$/
const QUALITY = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/

interface MediaRange {
  type: string
  subtype: string
  q: number
  position: number
}

/**
 * RFC 9110 §12.5.1: which of the offered media types an `Accept` header prefers, or undefined
 * when it accepts none of them. Each offered type takes the quality of the most specific range
 * that matches it; among equal qualities the more specific match wins, then the range listed
 * first, then the earlier offer. Without the header (or an empty one) the first offer is taken.
 * Malformed ranges are ignored; media type parameters other than `q` play no part.
 *
 * @example
 * preferredMediaType('application/jwt, application/json;q=0.5', ['application/json', 'application/jwt']) // 'application/jwt'
 * preferredMediaType('text/html', ['application/json']) // undefined
 */
export function preferredMediaType<T extends string>(accept: string | undefined, offered: readonly T[]): T | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0]
  const ranges = parseAccept(accept)
  let best: { type: T; q: number; specificity: number; position: number } | undefined
  for (const type of offered) {
    const match = bestRange(ranges, type)
    if (match === undefined || match.q === 0) continue
    const better =
      best === undefined ||
      match.q > best.q ||
      (match.q === best.q && (match.specificity > best.specificity || (match.specificity === best.specificity && match.position < best.position)))
    if (better) best = { type, ...match }
  }
  return best?.type
}

function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = []
  for (const [position, entry] of accept.split(',').entries()) {
    const [range = '', ...parameters] = entry.split(';').map((part) => part.trim())
    const lower = range.toLowerCase()
    if (!MEDIA_RANGE.test(lower) || (lower.startsWith('*/') && lower !== '*/*')) continue
    let q = 1
    const quality = parameters.find((parameter) => /^q\s*=/i.test(parameter))
    if (quality !== undefined) {
      const value = quality.slice(quality.indexOf('=') + 1).trim()
      if (!QUALITY.test(value)) continue
      q = Number(value)
    }
    const [type = '', subtype = ''] = lower.split('/')
    ranges.push({ type, subtype, q, position })
  }
  return ranges
}

function bestRange(ranges: readonly MediaRange[], mediaType: string): { q: number; specificity: number; position: number } | undefined {
  const [type, subtype] = mediaType.toLowerCase().split('/')
  let best: { q: number; specificity: number; position: number } | undefined
  for (const range of ranges) {
    const specificity = range.type === type && range.subtype === subtype ? 2 : range.type === type && range.subtype === '*' ? 1 : range.type === '*' && range.subtype === '*' ? 0 : -1
    if (specificity < 0) continue
    if (best === undefined || specificity > best.specificity) best = { q: range.q, specificity, position: range.position }
  }
  return best
}
