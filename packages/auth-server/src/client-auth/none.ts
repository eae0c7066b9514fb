import { InvalidClient } from '../errors.js'
import type { ClientAuthMethod } from './context.js'

/**
 * OpenID Connect Core §9 `none`: a public client (SPA or native app, RFC 6749 §2.1) names itself
 * with `client_id` and proves nothing; PKCE and refresh-token rotation stand in for a secret.
 * A client registered with credentials must use them.
 */
export const noClientAuth: ClientAuthMethod = {
  name: 'none',
  present: ({ authorization, params, clientCertificate }) =>
    authorization === undefined && clientCertificate === undefined && params.has('client_id') && !params.has('client_secret') && !params.has('client_assertion'),
  async authenticate({ params }, { directory }) {
    const client = await directory.getClient(params.require('client_id'))
    if (client === undefined || (client.type !== 'spa' && client.type !== 'native')) throw new InvalidClient('client authentication is required')
    return { client }
  },
}
