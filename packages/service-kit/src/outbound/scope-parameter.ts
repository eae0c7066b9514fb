import { isScopeToken } from '@meshguard/token'

/**
 * A `scope` request parameter (RFC 6749 §3.3): the scope tokens, deduplicated and sorted, so
 * that equal sets of scopes share one cached token. `undefined` when no scope is asked for.
 *
 * @throws TypeError naming `name` when a scope token is empty or has forbidden characters.
 * @example
 * scopeParameter('scope', ['payment.write', 'payment.read']) // 'payment.read payment.write'
 * scopeParameter('scope', 'payment.read payment.read') // 'payment.read'
 */
export function scopeParameter(name: string, scope: string | readonly string[] | undefined): string | undefined {
  if (scope === undefined) return undefined
  const tokens = typeof scope === 'string' ? scope.split(' ').filter((token) => token !== '') : scope
  if (!Array.isArray(tokens) || tokens.length === 0 || !tokens.every((token) => typeof token === 'string' && isScopeToken(token))) {
    throw new TypeError(`${name} must be one or more scope tokens of the characters RFC 6749 §3.3 allows`)
  }
  return [...new Set(tokens)].sort().join(' ')
}
