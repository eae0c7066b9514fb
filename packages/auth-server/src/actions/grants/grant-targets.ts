import type { ServerContext } from '../../context.js'
import { InvalidScope, InvalidTarget } from '../../errors.js'
import type { FormParams } from '../../http/form-params.js'
import { parseScope } from '@meshguard/token'

export interface TargetRequest {
  /** The `scope` parameter, or undefined when the client sent none. */
  scope: string | undefined
  /** What the client may have at most; requested scopes outside it are `invalid_scope`. */
  limits: ReadonlyArray<{ scopes: readonly string[]; refusal: string }>
  /** Granted when no scope is requested. */
  defaults: readonly string[]
}

export interface GrantTargets {
  scopes: string[]
  audience: string[]
}

/**
 * The scopes and audience of a new token. A requested `audience` or `resource` (RFC 8693 §2.1,
 * RFC 8707 §2) must be a registered resource server (`invalid_target`) and defines which scopes
 * can be granted; without one, the audience is the resource servers of the granted scopes.
 */
export async function grantTargets(ctx: ServerContext, params: FormParams, request: TargetRequest): Promise<GrantTargets> {
  const targets = [...new Set([...params.getAll('audience'), ...params.getAll('resource')])]
  if (targets.length > 0) {
    const unknown = await ctx.directory.unknownResourceServers(targets)
    if (unknown.length > 0) throw new InvalidTarget(`not a registered resource server: ${unknown.join(' ')}`)
  }

  const requested = request.scope === undefined ? undefined : parseScope(request.scope)
  if (requested?.length === 0 || (request.scope !== undefined && requested === undefined)) {
    throw new InvalidScope('scope is empty or has characters RFC 6749 §3.3 does not allow')
  }
  if (requested) {
    for (const limit of request.limits) {
      const refused = requested.filter((scope) => !limit.scopes.includes(scope))
      if (refused.length > 0) throw new InvalidScope(`${limit.refusal}: ${refused.join(' ')}`)
    }
  }

  let scopes = requested ?? [...request.defaults]
  const owners = await ctx.directory.resolveScopes(scopes)
  const ownedByTarget = (scope: string) => targets.length === 0 || targets.includes(owners.get(scope) ?? '')
  if (requested) {
    const undefinedScopes = scopes.filter((scope) => !owners.has(scope))
    if (undefinedScopes.length > 0) throw new InvalidScope(`scope not defined by any resource server: ${undefinedScopes.join(' ')}`)
    const outside = scopes.filter((scope) => !ownedByTarget(scope))
    if (outside.length > 0) throw new InvalidScope(`scope not defined by the requested audience: ${outside.join(' ')}`)
  } else {
    scopes = scopes.filter((scope) => owners.has(scope) && ownedByTarget(scope))
  }
  if (scopes.length === 0) throw new InvalidScope('no scope can be granted for this request')

  const audience = [...new Set(scopes.map((scope) => owners.get(scope)!))]
  return { scopes, audience }
}
