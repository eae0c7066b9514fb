/**
 * Parses a JSON object, refusing one whose top level names a member twice (RFC 7515 §5.2 and
 * RFC 7519 §4: JOSE headers and claim sets with duplicate names must be rejected, since parsers
 * disagree on which value wins). Returns undefined for anything that is not such an object.
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  return countTopLevelMembers(text) === Object.keys(value).length ? (value as Record<string, unknown>) : undefined
}

/** Counts the members of the outermost object in valid JSON text: strings followed by `:` at depth 1. */
function countTopLevelMembers(text: string): number {
  let depth = 0
  let members = 0
  for (let i = 0; i < text.length; i += 1) {
    const char = text.charCodeAt(i)
    if (char === 0x22 /* " */) {
      let end = i + 1
      while (text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c /* \ */ ? 2 : 1
      if (depth === 1) {
        let next = end + 1
        while (isJsonWhitespace(text.charCodeAt(next))) next += 1
        if (text.charCodeAt(next) === 0x3a /* : */) members += 1
      }
      i = end
    } else if (char === 0x7b /* { */ || char === 0x5b /* [ */) {
      depth += 1
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      depth -= 1
    }
  }
  return members
}

/** RFC 8259 §2: space, tab, line feed, carriage return. */
function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
}
