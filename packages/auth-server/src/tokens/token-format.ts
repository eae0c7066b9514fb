/**
 * How a client's access tokens are delivered. `jwt`: the signed RFC 9068 token itself.
 * `reference`: an opaque token that stands for it, resolved by the authorization server
 * (introspection, revocation, token exchange, the phantom-token exchange).
 */
export const tokenFormats = ['jwt', 'reference'] as const

export type TokenFormat = (typeof tokenFormats)[number]

/**
 * @example
 * isTokenFormat('reference') // true
 */
export function isTokenFormat(value: unknown): value is TokenFormat {
  return tokenFormats.includes(value as TokenFormat)
}
