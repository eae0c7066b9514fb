import { clientAuthMethods } from '../client-auth/authenticate-client.js'
import { endpointUrl, type ServerContext } from '../context.js'
import { grants } from './grants/index.js'

const AUTH_METHODS = clientAuthMethods.map((method) => method.name)

/**
 * RFC 8414 authorization server metadata, also served as OpenID Connect discovery.
 * `issuer` is exactly the configured identifier (§3.3: clients compare it byte for byte).
 */
export function discoveryDocument(ctx: ServerContext): Record<string, unknown> {
  return {
    issuer: ctx.issuer,
    token_endpoint: endpointUrl(ctx, 'token'),
    jwks_uri: endpointUrl(ctx, 'jwks'),
    introspection_endpoint: endpointUrl(ctx, 'introspection'),
    revocation_endpoint: endpointUrl(ctx, 'revocation'),
    // Meshguard extension (RFC 8414 §2 allows additional members): revocations as Server-Sent Events.
    revocation_events_endpoint: endpointUrl(ctx, 'revocationEvents'),
    grant_types_supported: [...grants.keys()],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
    introspection_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ctx.config.signing.algorithm],
  }
}
