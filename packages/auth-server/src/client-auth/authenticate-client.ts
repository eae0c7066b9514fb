import { InvalidClient, InvalidRequest } from '../errors.js'
import { clientSecretBasic, clientSecretPost } from './client-secret.js'
import type { AuthenticatedClient, ClientAuthDeps, ClientAuthMethod, ClientAuthRequest } from './context.js'
import { noClientAuth } from './none.js'
import { privateKeyJwt } from './private-key-jwt.js'
import { tlsClientAuth } from './tls-client-auth.js'

/** Registered client authentication methods; adding one is a file and a line here. */
export const clientAuthMethods: readonly ClientAuthMethod[] = [clientSecretBasic, clientSecretPost, privateKeyJwt, tlsClientAuth]

/**
 * Authenticates the client of a token, introspection or revocation request.
 * RFC 6749 §2.3: a client uses exactly one method per request; a request with none names a
 * public client by `client_id` alone (`none`).
 */
export async function authenticateClient(request: ClientAuthRequest, deps: ClientAuthDeps): Promise<AuthenticatedClient> {
  const used = clientAuthMethods.filter((method) => method.present(request))
  if (used.length > 1) {
    throw new InvalidRequest(`more than one client authentication method used: ${used.map((m) => m.name).join(', ')}`)
  }
  const method = used[0] ?? (noClientAuth.present(request) ? noClientAuth : undefined)
  if (method === undefined) throw new InvalidClient('client authentication is required')
  return method.authenticate(request, deps)
}
