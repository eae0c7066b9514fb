import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authorizeOperation, createVerifier, OpenApiRoutes, type VerifiedToken, type Verifier } from '../src/index.js'
import { withMeshguard } from '../src/adapters/node-http.js'
import { TestIssuer } from './helpers/test-issuer.js'

const spec = { openapi: '3.0.3', security: [{ oauth2: ['b.r'] }], paths: { '/items': { get: { operationId: 'listItems' } } } }

/**
 * Seed 004: the caller's token, addressed to api-a, reaches api-b forwarded in Authorization
 * beside api-a's own X-Scope-Token for api-b. With `forwardedAudiences: ['api-a']`, api-b takes the
 * caller's identity from it and the scopes from the scope token alone.
 */
describe('a forwarded caller token (forwardedAudiences)', () => {
  const auth = new TestIssuer()
  const tokens: Record<string, string> = {}
  const servers: Server[] = []
  const verifiers: Verifier[] = []
  let forwarding = ''
  let strict = ''

  const serve = async (verifier: Verifier) => {
    const server = createServer(
      withMeshguard({ verifier, routes: new OpenApiRoutes(spec) }, (_req, res, { caller, scopeToken, grantedBy }) => {
        res.setHeader('content-type', 'application/json').end(JSON.stringify({ subject: caller?.subject, forwarded: caller?.forwarded, scopeTokenClient: scopeToken?.clientId, grantedBy }))
      }),
    )
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/items`
  }
  const verifierFor = async (forwardedAudiences?: string[]) => {
    const verifier = createVerifier({ issuer: auth.issuer, audience: 'api-b', jwksUri: `${auth.issuer}/.well-known/jwks.json`, forwardedAudiences })
    verifiers.push(verifier)
    await verifier.start()
    return verifier
  }
  const call = async (url: string, authorization: string | undefined, scopeToken?: string) => {
    const headers: Record<string, string> = {}
    if (authorization !== undefined) headers.authorization = `Bearer ${authorization}`
    if (scopeToken !== undefined) headers['x-scope-token'] = scopeToken
    const response = await request(url, { headers })
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown>, challenge: response.headers['www-authenticate'] }
  }

  beforeAll(async () => {
    await auth.start()
    await auth.resource('api-a', ['a.r', 'a.w'])
    await auth.resource('api-b', ['b.r', 'b.w'])
    await auth.resource('api-c', ['c.r'])
    await auth.client({ id: 'client', scopes: ['a.r', 'c.r'] })
    await auth.client({ id: 'api-a', scopes: ['b.r', 'b.w', 'c.r'] })
    const cc = (client: string, scope: string) => auth.token(client, { grant_type: 'client_credentials', scope })
    tokens.user = await cc('client', 'a.r')
    tokens.userForC = await cc('client', 'c.r')
    tokens.scopeForB = await cc('api-a', 'b.r')
    tokens.scopeForBWithoutRead = await cc('api-a', 'b.w')
    tokens.scopeForC = await cc('api-a', 'c.r')
    forwarding = await serve(await verifierFor(['api-a']))
    strict = await serve(await verifierFor())
  })
  afterAll(async () => {
    for (const server of servers) server.close()
    for (const verifier of verifiers) verifier.close()
    await auth.stop()
    auth.cleanup()
  })

  it("takes the caller's identity from the forwarded token and the scopes from the X-Scope-Token", async () => {
    expect(await call(forwarding, tokens.user, tokens.scopeForB)).toMatchObject({
      status: 200,
      body: { subject: 'client', forwarded: true, scopeTokenClient: 'api-a', grantedBy: 'scope-token' },
    })
  })

  it('marks a token addressed to the service itself as not forwarded', async () => {
    const verifier = await verifierFor(['api-a'])
    expect((await verifier.verify(tokens.scopeForB!)).forwarded).toBe(false)
    expect((await verifier.verify(tokens.user!)).forwarded).toBe(true)
  })

  const refusals: Array<[string, () => string, () => string | undefined, () => string | undefined, number, string, string]> = [
    ['the forwarded token alone', () => forwarding, () => tokens.user, () => undefined, 401, 'invalid_token', 'the token is addressed to another service and came without an X-Scope-Token for this one'],
    ['the forwarded token beside an X-Scope-Token addressed upstream', () => forwarding, () => tokens.user, () => tokens.user, 401, 'invalid_token', 'the token is addressed to another service and came without an X-Scope-Token for this one'],
    ['the forwarded token beside an X-Scope-Token for another service', () => forwarding, () => tokens.user, () => tokens.scopeForC, 401, 'invalid_token', 'the token is addressed to another service and came without an X-Scope-Token for this one'],
    ['the forwarded token beside an X-Scope-Token without the scope', () => forwarding, () => tokens.user, () => tokens.scopeForBWithoutRead, 403, 'insufficient_scope', 'the operation needs scope b.r'],
    ['a token addressed to a service not forwarded from', () => forwarding, () => tokens.userForC, () => tokens.scopeForB, 401, 'invalid_token', 'the token is not addressed to this service'],
    ['the forwarded token at a service that accepts none', () => strict, () => tokens.user, () => tokens.scopeForB, 401, 'invalid_token', 'the token is not addressed to this service'],
  ]

  it.each(refusals)('refuses %s', async (_name, url, authorization, scopeToken, status, error, description) => {
    const reply = await call(url(), authorization(), scopeToken())
    expect({ status: reply.status, error: reply.body.error, description: reply.body.error_description }).toEqual({ status, error, description })
  })

  it("never counts a forwarded token's own scopes, even where they would suffice", async () => {
    // This issuer never puts b.r in a token addressed to api-a alone; another issuer might.
    const token = (name: string, scopes: string[], forwarded: boolean): VerifiedToken => ({
      claims: {} as VerifiedToken['claims'],
      subject: name,
      clientId: name,
      scopes: new Set(scopes),
      chain: [],
      kid: 'k',
      forwarded,
    })
    const known: Record<string, VerifiedToken> = { forwarded: token('client', ['b.r'], true), scope: token('api-a', ['b.w'], false) }
    const verifier = { verifyCached: (t: string) => known[t], verify: (t: string) => Promise.resolve(known[t]!) } as unknown as Verifier
    const operation = { public: false, alternatives: [['b.r']], chain: undefined }
    await expect(authorizeOperation(operation, { authorization: 'Bearer forwarded', scopeToken: undefined }, verifier)).rejects.toMatchObject({ code: 'ERR_TOKEN_AUDIENCE' })
    await expect(authorizeOperation(operation, { authorization: 'Bearer forwarded', scopeToken: 'scope' }, verifier)).rejects.toMatchObject({ code: 'ERR_INSUFFICIENT_SCOPE' })
  })

  it.each([
    [['api-b'], "forwardedAudiences must be an array of non-empty strings, none of them this service's own audience"],
    [[''], "forwardedAudiences must be an array of non-empty strings, none of them this service's own audience"],
    ['api-a', "forwardedAudiences must be an array of non-empty strings, none of them this service's own audience"],
  ])('refuses forwardedAudiences %j', (forwardedAudiences, message) => {
    expect(() => createVerifier({ issuer: auth.issuer, audience: 'api-b', keys: [], forwardedAudiences: forwardedAudiences as string[] })).toThrow(new TypeError(message))
  })
})
