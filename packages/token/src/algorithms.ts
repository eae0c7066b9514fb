/** The JWS algorithms Meshguard signs and verifies access tokens with (RFC 7518 §3, RFC 8037). */
export const signingAlgorithms = ['ES256', 'RS256', 'EdDSA'] as const

export type SigningAlgorithm = (typeof signingAlgorithms)[number]

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (signingAlgorithms as readonly string[]).includes(value)
}
