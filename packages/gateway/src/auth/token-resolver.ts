import type { VerifiedToken, Verifier } from '@meshguard/service-kit'

/** What a presented token stands for: its verified claims, and the JWT to forward upstream. */
export interface ResolvedToken {
  readonly verified: VerifiedToken
  /** For a JWT, the token itself; for a reference token, the JWT it was exchanged for. */
  readonly jwt: string
}

/**
 * Turns the token a caller presented into a verified JWT. The JWT resolver verifies it in
 * place; a phantom-token resolver swaps an opaque token for the JWT it stands for first (and
 * may keep that swap cached and shared). Refusals are `VerificationError`s; a token that cannot
 * be checked now (introspection or the shared state unreachable) is a `GatewayError`.
 */
export interface TokenResolver {
  /**
   * The answer at once, without a promise, when it is already known (the verified-token cache);
   * `undefined` when {@link TokenResolver.resolve} must be awaited. Throws a
   * `VerificationError` for a cached token that has since expired or been revoked.
   */
  resolveNow(token: string): ResolvedToken | undefined
  /** Rejects with a `VerificationError`, or a `GatewayError` when the token cannot be checked now. */
  resolve(token: string): Promise<ResolvedToken>
}

/** Builds the resolver for one generation of the configuration, around its verifier. */
export type TokenResolverFactory = (verifier: Verifier) => TokenResolver

/**
 * The resolver for JWT access tokens: the service kit's verifier, with its JWKS and
 * verified-token caches.
 *
 * @example
 * const resolver = jwtTokenResolver(createVerifier({ issuer, audience: ['orders'], jwksUri }))
 */
export function jwtTokenResolver(verifier: Verifier): TokenResolver {
  return {
    resolveNow(token) {
      const verified = verifier.verifyCached(token)
      return verified === undefined ? undefined : { verified, jwt: token }
    },
    async resolve(token) {
      return { verified: await verifier.verify(token), jwt: token }
    },
  }
}
