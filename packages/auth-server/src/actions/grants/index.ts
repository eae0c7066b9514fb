import { clientCredentials } from './client-credentials.js'
import type { Grant } from './grant.js'
import { tokenExchange } from './token-exchange.js'

/** Grant types served by the token endpoint, by `grant_type`. */
export const grants: ReadonlyMap<string, Grant> = new Map([clientCredentials, tokenExchange].map((grant) => [grant.grantType, grant]))
