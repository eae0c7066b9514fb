import { authenticateClient } from '../client-auth/authenticate-client.js'
import { endpointUrl, type EndpointName, type ServerContext } from '../context.js'
import type { FormParams } from '../http/form-params.js'
import type { ClientRecord } from '../store/store.js'

/** Client authentication as every endpoint performs it. */
export function authenticate(
  ctx: ServerContext,
  endpoint: EndpointName,
  authorization: string | undefined,
  params: FormParams,
): Promise<ClientRecord> {
  return authenticateClient(
    { authorization, params, endpointUrl: endpointUrl(ctx, endpoint) },
    { directory: ctx.directory, store: ctx.store, clock: ctx.clock, issuer: ctx.issuer, config: ctx.config },
  )
}
