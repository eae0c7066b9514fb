import { authenticateClient } from '../client-auth/authenticate-client.js'
import type { AuthenticatedClient, ClientAuthRequest } from '../client-auth/context.js'
import { isPublic } from '../authorize/authorization-request.js'
import { InvalidClient } from '../errors.js'
import { endpointUrl, mtlsEndpointUrl, type EndpointName, type ServerContext } from '../context.js'

/** What the token, introspection and revocation endpoints are given of a request. */
export type EndpointRequest = Omit<ClientAuthRequest, 'endpointUrl'>

/** What a public client is refused, at the endpoints that are for services only. */
const SERVICES_ONLY: Partial<Record<EndpointName, string>> = {
  introspection: 'public clients cannot introspect tokens',
  auditEvents: 'public clients cannot report service calls',
}

/**
 * Client authentication as every endpoint performs it. Public clients may use the token and
 * revocation endpoints (RFC 7009 §2.1) but not introspection, which is for resource servers,
 * nor the audit ingest, which is for services.
 */
export async function authenticate(ctx: ServerContext, endpoint: EndpointName, request: EndpointRequest): Promise<AuthenticatedClient> {
  const url = request.listener === 'mtls' ? mtlsEndpointUrl(ctx, endpoint) : undefined
  const authenticated = await authenticateClient(
    { ...request, endpointUrl: url ?? endpointUrl(ctx, endpoint) },
    { directory: ctx.directory, store: ctx.store, clock: ctx.clock, issuer: ctx.issuer, config: ctx.config },
  )
  const refusal = SERVICES_ONLY[endpoint]
  if (refusal !== undefined && isPublic(authenticated.client)) throw new InvalidClient(refusal)
  return authenticated
}

/** For the audit of a request refused before its client was authenticated: who it claimed to be. */
export function claimedIdentity(request: EndpointRequest): Record<string, unknown> {
  const certificate = request.clientCertificate
  return {
    claimed_client_id: request.params.get('client_id'),
    client_certificate: certificate && { uris: certificate.uris, verified: certificate.verified, 'x5t#S256': certificate.thumbprint },
  }
}
