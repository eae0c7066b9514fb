import { authorizationCode } from './authorization-code.js'
import { clientCredentials } from './client-credentials.js'
import type { Grant } from './grant.js'
import { refreshToken } from './refresh-token.js'
import { tokenExchange } from './token-exchange.js'

/** Grant types served by the token endpoint, by `grant_type`. */
export const grants: ReadonlyMap<string, Grant> = new Map(
  [clientCredentials, tokenExchange, authorizationCode, refreshToken].map((grant) => [grant.grantType, grant]),
)
