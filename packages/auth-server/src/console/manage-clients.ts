import { z } from 'zod'
import { registerClient } from '../admin/register.js'
import { epochSeconds } from '../clock.js'
import type { ServerContext } from '../context.js'
import { MeshguardError } from '../errors.js'
import type { ClientRecord, ClientType } from '../store/store.js'
import type { TokenFormat } from '../tokens/token-format.js'
import { parseInput } from './console-error.js'
import { audited, type ConsoleRoute } from './console-route.js'

const strings = z.array(z.string().max(2048)).max(100)

/** What the registration form sends; the rules are `registerClient`'s, as for `meshguard client create`. */
const clientInput = z.strictObject({
  id: z.string().max(200),
  type: z.string().max(20).optional(),
  scopes: strings.default([]),
  grantTypes: strings.optional(),
  redirectUris: strings.optional(),
  postLogoutRedirectUris: strings.optional(),
  mayAct: z.string().max(200).optional(),
  tokenFormat: z.string().max(20).optional(),
  phantomTokens: z.boolean().optional(),
})

/** A client as the console lists it: never its secret hash. */
export function describeClient(client: ClientRecord) {
  return {
    id: client.id,
    type: client.type,
    auth: client.jwks ? 'private_key_jwt' : client.tlsClientAuthSanUri !== null ? 'tls_client_auth' : client.secretHash !== null ? 'client_secret' : 'none',
    grantTypes: client.grantTypes,
    scopes: client.scopes,
    redirectUris: client.redirectUris,
    postLogoutRedirectUris: client.postLogoutRedirectUris,
    mayAct: client.mayAct,
    tokenFormat: client.tokenFormat,
    phantomTokens: client.phantomTokens,
    createdAt: client.createdAt,
  }
}

/** `/console/api/clients`: list, register (the secret shown once), delete. */
export function clientRoutes(ctx: ServerContext): ConsoleRoute[] {
  return [
    {
      method: 'GET',
      url: '/clients',
      handler: async () => (await ctx.store.listClients()).map(describeClient),
    },
    {
      method: 'POST',
      url: '/clients',
      status: 201,
      handler: async ({ admin, body }) => {
        const input = parseInput(clientInput, body)
        const { client, secret } = await audited(ctx, admin, 'client.created', { client_id: input.id }, () =>
          registerClient(
            ctx.store,
            // registerClient refuses any other type or format, naming the supported ones.
            { ...input, type: input.type as ClientType | undefined, tokenFormat: input.tokenFormat as TokenFormat | undefined },
            epochSeconds(ctx.clock),
          ),
        )
        await ctx.directory.refresh()
        return { client: describeClient(client), secret }
      },
    },
    {
      method: 'DELETE',
      url: '/clients/:id',
      handler: async ({ admin, params }) => {
        const id = params.id ?? ''
        await audited(ctx, admin, 'client.deleted', { client_id: id }, async () => {
          if (!(await ctx.store.deleteClient(id))) throw new MeshguardError('ERR_STORE_NOT_FOUND', `no client "${id}"`)
        })
        await ctx.directory.refresh()
        return { deleted: id }
      },
    },
  ]
}
