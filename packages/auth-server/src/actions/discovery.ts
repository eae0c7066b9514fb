import { clientAuthMethods } from '../client-auth/authenticate-client.js'
import { endpointUrl, mtlsEndpointUrl, type ServerContext } from '../context.js'
import { grants } from './grants/index.js'

const ALL_AUTH_METHODS = clientAuthMethods.map((method) => method.name)
const AUTH_METHODS_WITHOUT_MTLS = ALL_AUTH_METHODS.filter((name) => name !== 'tls_client_auth')

/**
 * RFC 8414 authorization server metadata, also served as OpenID Connect discovery.
 * `issuer` is exactly the configured identifier (§3.3: clients compare it byte for byte).
 * With a mutual-TLS listener, RFC 8705 §3.3 and §5 metadata name it and its endpoints.
 */
export function discoveryDocument(ctx: ServerContext): Record<string, unknown> {
  const mtls = ctx.mtlsBaseUrl !== undefined
  const authMethods = mtls ? ALL_AUTH_METHODS : AUTH_METHODS_WITHOUT_MTLS
  return {
    issuer: ctx.issuer,
    authorization_endpoint: endpointUrl(ctx, 'authorization'),
    token_endpoint: endpointUrl(ctx, 'token'),
    userinfo_endpoint: endpointUrl(ctx, 'userinfo'),
    end_session_endpoint: endpointUrl(ctx, 'endSession'),
    jwks_uri: endpointUrl(ctx, 'jwks'),
    introspection_endpoint: endpointUrl(ctx, 'introspection'),
    revocation_endpoint: endpointUrl(ctx, 'revocation'),
    // Meshguard extension (RFC 8414 §2 allows additional members): revocations as Server-Sent Events.
    revocation_events_endpoint: endpointUrl(ctx, 'revocationEvents'),
    grant_types_supported: [...grants.keys()],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    // RFC 9207: every authorization response names the issuer.
    authorization_response_iss_parameter_supported: true,
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'name', 'preferred_username', 'email'],
    prompt_values_supported: ['none', 'login', 'consent'],
    // Public clients (SPAs, native apps) authenticate with nothing but PKCE, at the token endpoint only.
    token_endpoint_auth_methods_supported: [...authMethods, 'none'],
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
    introspection_endpoint_auth_methods_supported: authMethods,
    // RFC 9701 §7: what signs an `application/token-introspection+jwt` response — the keys that sign or will.
    introspection_signing_alg_values_supported: signingAlgorithms(ctx),
    revocation_endpoint_auth_methods_supported: [...authMethods, 'none'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ctx.config.signing.algorithm],
    ...(mtls && {
      tls_client_certificate_bound_access_tokens: true,
      mtls_endpoint_aliases: {
        token_endpoint: mtlsEndpointUrl(ctx, 'token'),
        introspection_endpoint: mtlsEndpointUrl(ctx, 'introspection'),
        revocation_endpoint: mtlsEndpointUrl(ctx, 'revocation'),
      },
    }),
  }
}

function signingAlgorithms(ctx: ServerContext): string[] {
  const algorithms = ctx.keys.records().filter((key) => key.state !== 'retired').map((key) => key.alg)
  return [...new Set(algorithms.length > 0 ? algorithms : [ctx.config.signing.algorithm])]
}
