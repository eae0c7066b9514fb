import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN_EXCHANGE_GRANT } from '@meshguard/auth-server'
import {
  ClientCredentials,
  createOutboundClient,
  createVerifier,
  OpenApiRoutes,
  OutboundError,
  type OutboundClientOptions,
  type OutboundRequestOptions,
  type Verifier,
} from '../src/index.js'
import { withMeshguard } from '../src/adapters/node-http.js'
import { TestIssuer } from './helpers/test-issuer.js'

/** Needs form-urlencoding before base64 (RFC 6749 §2.3.1): a colon, a plus, a percent, spaces, non-ASCII. */
const SECRET = 'order-service: s3cret + 100% sûr, with spaces & more'

const spec = {
  openapi: '3.0.3',
  security: [{ oauth2: ['payment.read'] }],
  paths: {
    '/payments': {
      get: { operationId: 'listPayments' },
      post: { operationId: 'createPayment', security: [{ oauth2: ['payment.write'] }], 'x-meshguard-chain': ['order-service'] },
    },
    '/health': { get: { operationId: 'health', security: [] }, post: { operationId: 'ping', security: [] } },
  },
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => {
      resolve()
    })
  })

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await closeServer(server)
  return port
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

describe('the outbound client', () => {
  const auth = new TestIssuer()
  let verifier: Verifier
  let downstream: Server
  let payments = ''
  let downstreamRequests = 0
  let user = ''
  let paymentsOnly = ''
  let options: OutboundClientOptions

  /** Token endpoint requests the auth server has answered, by outcome. */
  const tokenRequests = async () => {
    const { tokensIssued, oauthErrors } = auth.server.context.metrics
    const issued = (await tokensIssued.get()).values
    const refused = (await oauthErrors.get()).values.filter((v) => v.labels.endpoint === 'token')
    return {
      clientCredentials: issued.find((v) => v.labels.grant_type === 'client_credentials')?.value ?? 0,
      exchange: issued.find((v) => v.labels.grant_type === TOKEN_EXCHANGE_GRANT)?.value ?? 0,
      refused: refused.reduce((sum, v) => sum + v.value, 0),
    }
  }
  /** What `work` cost in token endpoint and downstream requests. */
  const counting = async (work: () => Promise<unknown>) => {
    const before = await tokenRequests()
    const requestsBefore = downstreamRequests
    await work()
    const after = await tokenRequests()
    return {
      clientCredentials: after.clientCredentials - before.clientCredentials,
      exchange: after.exchange - before.exchange,
      refused: after.refused - before.refused,
      downstream: downstreamRequests - requestsBefore,
    }
  }
  const call = async (path: string, request: OutboundRequestOptions, client = createOutboundClient(options)) => {
    const response = await client.request(`${payments}${path}`, request)
    return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> }
  }

  beforeAll(async () => {
    await auth.start()
    await auth.resource('order-service', ['order.write'])
    await auth.resource('payment-service', ['payment.read', 'payment.write'])
    await auth.client({ id: 'web', scopes: ['order.write', 'payment.read', 'payment.write'] })
    await auth.client({ id: 'order-service', scopes: ['payment.read', 'payment.write'], grantTypes: ['client_credentials', TOKEN_EXCHANGE_GRANT], secret: SECRET })
    // A user's token for order-service that reaches payment-service too, but without payment.read.
    user = await auth.token('web', { grant_type: 'client_credentials', scope: 'order.write payment.write' })
    paymentsOnly = await auth.token('web', { grant_type: 'client_credentials', scope: 'payment.write' })
    options = { tokenEndpoint: `${auth.issuer}/oauth2/token`, clientId: 'order-service', clientSecret: SECRET }

    verifier = createVerifier({ issuer: auth.issuer, audience: 'payment-service', jwksUri: `${auth.issuer}/.well-known/jwks.json` })
    await verifier.start()
    downstream = createServer(
      withMeshguard({ verifier, routes: new OpenApiRoutes(spec) }, (req, res, { caller, scopeToken, grantedBy }) => {
        const seen = { subject: caller?.subject, grantedBy, chain: caller?.chain, scopeTokenSubject: scopeToken?.subject, trace: req.headers['x-trace'] }
        res.setHeader('content-type', 'application/json').end(JSON.stringify(seen))
      }),
    )
    downstream.on('request', () => (downstreamRequests += 1))
    await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve))
    payments = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await closeServer(downstream)
    verifier.close()
    await auth.stop()
    auth.cleanup()
  })

  describe('sends the tokens each mode asks for', () => {
    it("forwards the caller's token and adds its own as X-Scope-Token: identity from one, scopes from the other (seed 004)", async () => {
      expect(await call('/payments', { caller: user })).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } })
      const reply = await call('/payments', { caller: user, scopeToken: { scope: 'payment.read', audience: 'payment-service' }, headers: { 'x-trace': 't1' } })
      expect(reply).toEqual({ status: 200, body: { subject: 'web', grantedBy: 'scope-token', chain: [], scopeTokenSubject: 'order-service', trace: 't1' } })
    })

    it("exchanges the caller's token for one naming this service as actor (RFC 8693)", async () => {
      expect(await call('/payments', { method: 'POST', caller: user })).toMatchObject({ status: 403, body: { error: 'access_denied' } })
      const reply = await call('/payments', { method: 'POST', caller: user, exchange: { audience: 'payment-service', scope: 'payment.write' } })
      expect(reply).toEqual({ status: 200, body: { subject: 'web', grantedBy: 'caller', chain: ['order-service'] } })
    })

    it('sends its own token as Authorization when there is no caller', async () => {
      const reply = await call('/payments', { ownToken: { scope: 'payment.read' } })
      expect(reply).toEqual({ status: 200, body: { subject: 'order-service', grantedBy: 'caller', chain: [] } })
    })

    it('authenticates with a client id and secret that need form-urlencoding (RFC 6749 §2.3.1)', async () => {
      await auth.client({ id: 'svc:reports+1@mesh', scopes: ['payment.read'], secret: SECRET })
      const credentials = new ClientCredentials({ ...options, clientId: 'svc:reports+1@mesh' })
      const claims = (await verifier.verify(await credentials.get())).claims
      expect({ sub: claims.sub, scope: claims.scope }).toEqual({ sub: 'svc:reports+1@mesh', scope: 'payment.read' })
    })
  })

  describe('reuses tokens', () => {
    it('asks for one client credentials token per scope and audience', async () => {
      const outbound = createOutboundClient(options)
      const scopeToken = { scope: ['payment.read'], audience: 'payment-service' }
      const cost = await counting(async () => {
        expect((await call('/payments', { caller: user, scopeToken }, outbound)).status).toBe(200)
        expect((await call('/payments', { caller: user, scopeToken: { scope: 'payment.read', audience: 'payment-service' } }, outbound)).status).toBe(200)
        expect((await call('/payments', { ownToken: { scope: 'payment.read' } }, outbound)).status).toBe(200)
      })
      expect(cost).toEqual({ clientCredentials: 2, exchange: 0, refused: 0, downstream: 3 })
    })

    it('asks for one exchange per caller token, audience and scope', async () => {
      const outbound = createOutboundClient(options)
      const other = await auth.token('web', { grant_type: 'client_credentials', scope: 'order.write payment.write' })
      const exchange = { audience: 'payment-service', scope: 'payment.write' }
      const cost = await counting(async () => {
        for (const caller of [user, user, other, other]) {
          expect((await call('/payments', { method: 'POST', caller, exchange }, outbound)).status).toBe(200)
        }
      })
      expect(cost).toEqual({ clientCredentials: 0, exchange: 2, refused: 0, downstream: 4 })
    })

    it('shares one token request among 50 concurrent calls', async () => {
      const outbound = createOutboundClient(options)
      const cost = await counting(async () => {
        const replies = await Promise.all([
          ...Array.from({ length: 50 }, () => call('/payments', { caller: user, scopeToken: { scope: 'payment.read' } }, outbound)),
          ...Array.from({ length: 50 }, () => call('/payments', { method: 'POST', caller: user, exchange: { audience: 'payment-service' } }, outbound)),
        ])
        expect(replies.map((reply) => reply.status)).toEqual(Array(100).fill(200))
      })
      expect(cost).toEqual({ clientCredentials: 1, exchange: 1, refused: 0, downstream: 100 })
    })

    it('replaces a token refreshBeforeSec before it expires, by the injected clock', async () => {
      let now = Date.now()
      const credentials = new ClientCredentials({ ...options, now: () => now })
      const first = await credentials.get({ scope: 'payment.read' })
      const { exp, iat } = (await verifier.verify(first)).claims
      expect(exp - iat).toBe(600)
      now += 569_000
      expect(await credentials.get({ scope: 'payment.read' })).toBe(first)
      now += 2_000
      const second = await credentials.get({ scope: 'payment.read' })
      expect(second).not.toBe(first)
      expect(await credentials.get({ scope: 'payment.read' })).toBe(second)
    })

    it('never reuses an exchanged token past its expiry', async () => {
      const start = Date.now()
      let now = start
      const outbound = createOutboundClient({ ...options, now: () => now, refreshBeforeSec: 0 })
      const exchange = { audience: 'payment-service', scope: 'payment.write' }
      const first = await outbound.tokenExchange.exchange(user, exchange)
      const { exp, iat } = (await verifier.verify(first)).claims
      now = start + (exp - iat) * 1000 - 1
      expect(await outbound.tokenExchange.exchange(user, exchange)).toBe(first)
      now = start + (exp - iat) * 1000
      expect(await outbound.tokenExchange.exchange(user, exchange)).not.toBe(first)
    })

    it('drops a held token when a refresh is refused, however long it has left', async () => {
      let now = Date.now()
      const outbound = createOutboundClient({ ...options, now: () => now })
      const caller = await auth.token('web', { grant_type: 'client_credentials', scope: 'order.write payment.write' })
      await outbound.tokenExchange.exchange(caller, { audience: 'payment-service' })
      await auth.revoke('web', caller)
      now += 580_000
      const err = await rejection(outbound.tokenExchange.exchange(caller, { audience: 'payment-service' }))
      expect(err).toBeInstanceOf(OutboundError)
      expect(err).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', status: 400, oauthError: 'invalid_request' })
    })
  })

  describe('token endpoint failures', () => {
    it('rejects a wrong secret with the OAuth error, and tries again on the next call', async () => {
      const outbound = createOutboundClient({ ...options, clientSecret: 'not the secret' })
      const cost = await counting(async () => {
        for (let i = 0; i < 2; i += 1) {
          const err = await rejection(outbound.request(`${payments}/payments`, { ownToken: { scope: 'payment.read' } }))
          expect(err).toBeInstanceOf(OutboundError)
          expect(err).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', status: 401, oauthError: 'invalid_client' })
          expect(err.message).toBe(`the token endpoint ${auth.issuer}/oauth2/token refused with invalid_client: client authentication failed`)
        }
      })
      expect(cost).toEqual({ clientCredentials: 0, exchange: 0, refused: 2, downstream: 0 })
    })

    const refusals: Array<[string, () => OutboundRequestOptions, number, string]> = [
      ['a scope the client may not have', () => ({ ownToken: { scope: 'order.write' } }), 400, 'invalid_scope'],
      ['an audience that is not a resource server', () => ({ caller: user, scopeToken: { audience: 'nobody' } }), 400, 'invalid_target'],
      ["an exchange for a scope the caller's token lacks", () => ({ caller: user, exchange: { audience: 'payment-service', scope: 'payment.read' } }), 400, 'invalid_scope'],
      ['an exchange of a token not addressed to this service', () => ({ caller: paymentsOnly, exchange: { audience: 'payment-service' } }), 400, 'invalid_request'],
    ]
    it.each(refusals)('passes on the refusal of %s', async (_name, request, status, oauthError) => {
      const err = await rejection(createOutboundClient(options).request(`${payments}/payments`, request()))
      expect(err).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT', status, oauthError })
    })

    it('rejects with ERR_TOKEN_ENDPOINT_UNREACHABLE when nothing listens', async () => {
      const port = await closedPort()
      const outbound = createOutboundClient({ ...options, tokenEndpoint: `http://127.0.0.1:${port}/oauth2/token` })
      const cost = await counting(async () => {
        const err = await rejection(outbound.request(`${payments}/payments`, { ownToken: {} }))
        expect(err).toBeInstanceOf(OutboundError)
        expect(err).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT_UNREACHABLE', status: undefined, oauthError: undefined })
        expect(err.cause).toMatchObject({ code: 'ECONNREFUSED' })
      })
      expect(cost.downstream).toBe(0)
    })

    it('rejects with ERR_TOKEN_RESPONSE_INVALID when the endpoint answers 200 without a token', async () => {
      const credentials = new ClientCredentials({ ...options, tokenEndpoint: `${payments}/health` })
      expect(await rejection(credentials.get())).toMatchObject({
        code: 'ERR_TOKEN_RESPONSE_INVALID',
        status: 200,
        message: `the token endpoint ${payments}/health sent no usable access_token`,
      })
    })

    it('bridges a refresh the endpoint cannot answer with the held token, until that expires', async () => {
      const flaky = await new TestIssuer().start()
      try {
        await flaky.resource('payment-service', ['payment.read'])
        await flaky.client({ id: 'order-service', scopes: ['payment.read'], secret: SECRET })
        let now = Date.now()
        const reported: unknown[] = []
        const credentials = new ClientCredentials({
          ...options,
          tokenEndpoint: `${flaky.issuer}/oauth2/token`,
          now: () => now,
          onError: (err) => reported.push(err),
        })
        const held = await credentials.get()
        await flaky.stop()
        now += 580_000
        expect(await credentials.get()).toBe(held)
        expect(reported).toMatchObject([{ code: 'ERR_TOKEN_ENDPOINT_UNREACHABLE' }])
        now += 20_000
        expect(await rejection(credentials.get())).toMatchObject({ code: 'ERR_TOKEN_ENDPOINT_UNREACHABLE' })
      } finally {
        flaky.cleanup()
      }
    })
  })

  describe('refuses misuse before sending anything', () => {
    const misuse: Array<[string, (base: string) => string, () => unknown, string]> = [
      ['exchange without a caller', (b) => `${b}/payments`, () => ({ exchange: { audience: 'payment-service' } }), 'exchange needs the caller token to exchange'],
      ['a scope token without a caller', (b) => `${b}/payments`, () => ({ scopeToken: { scope: 'payment.read' } }), 'scopeToken goes with a caller token; without a caller, use ownToken'],
      [
        'an undefined caller (a public route has none)',
        (b) => `${b}/payments`,
        () => ({ caller: undefined, scopeToken: { scope: 'payment.read' } }),
        "caller must be the caller's token; a public route has none, so use ownToken to call as this service",
      ],
      ['a caller with its Bearer prefix', (b) => `${b}/payments`, () => ({ caller: `Bearer ${user}` }), 'caller must be a bare bearer token (RFC 6750 §2.1), without "Bearer "'],
      [
        'ownToken with a caller',
        (b) => `${b}/payments`,
        () => ({ caller: user, ownToken: {} }),
        "ownToken is for calls made as this service; with a caller, use scopeToken to add this service's token",
      ],
      [
        'exchange and scopeToken together',
        (b) => `${b}/payments`,
        () => ({ caller: user, exchange: { audience: 'payment-service' }, scopeToken: {} }),
        'give exchange or scopeToken, not both: an exchanged token carries its own scopes',
      ],
      ['neither caller nor ownToken', (b) => `${b}/payments`, () => ({}), "give caller (to call on the caller's behalf) or ownToken (to call as this service)"],
      [
        'an Authorization header',
        (b) => `${b}/payments`,
        () => ({ ownToken: {}, headers: { Authorization: `Bearer ${user}` } }),
        'headers must not set authorization: the client sets it from caller, exchange, scopeToken or ownToken',
      ],
      [
        'an X-Scope-Token header in any case',
        (b) => `${b}/payments`,
        () => ({ caller: user, headers: { 'X-SCOPE-token': user } }),
        'headers must not set x-scope-token: the client sets it from caller, exchange, scopeToken or ownToken',
      ],
      ['exchange without an audience', (b) => `${b}/payments`, () => ({ caller: user, exchange: { scope: 'payment.write' } }), 'audience must be a non-empty string or a non-empty list of them'],
      ['a scope with a quote', (b) => `${b}/payments`, () => ({ ownToken: { scope: 'payment"read' } }), 'scope must be one or more scope tokens of the characters RFC 6749 §3.3 allows'],
      ['an empty scope list', (b) => `${b}/payments`, () => ({ ownToken: { scope: [] } }), 'scope must be one or more scope tokens of the characters RFC 6749 §3.3 allows'],
      ['plain http to another host', () => 'http://payments.internal/payments', () => ({ ownToken: {} }), 'url must use https: plain http is only for loopback or a host in insecureHttpHosts'],
      ['credentials in the URL', () => 'https://user:pw@payments.internal/payments', () => ({ ownToken: {} }), 'url must not carry credentials'],
      ['a URL that is not http(s)', () => 'ftp://payments.internal/payments', () => ({ ownToken: {} }), 'url must be an http(s) URL'],
    ]
    it.each(misuse)('refuses %s with a TypeError', async (_name, url, request, message) => {
      const outbound = createOutboundClient(options)
      const cost = await counting(async () => {
        const err = await rejection(outbound.request(url(payments), request() as OutboundRequestOptions))
        expect(err).toBeInstanceOf(TypeError)
        expect(err.message).toBe(message)
      })
      expect(cost).toEqual({ clientCredentials: 0, exchange: 0, refused: 0, downstream: 0 })
    })

    const badOptions: Array<[string, Partial<Record<keyof OutboundClientOptions, unknown>>, string]> = [
      ['a token endpoint over plain http', { tokenEndpoint: 'http://auth.internal/oauth2/token' }, 'tokenEndpoint must use https: plain http is only for loopback or a host in insecureHttpHosts'],
      ['a token endpoint with a fragment', { tokenEndpoint: 'https://auth.internal/oauth2/token#x' }, 'tokenEndpoint must not have a fragment (RFC 6749 §3.2)'],
      ['an empty client id', { clientId: '' }, 'clientId must be a non-empty string'],
      ['no secret', { clientSecret: undefined }, 'clientSecret must be a non-empty string'],
      ['a dispatcher that is not one', { dispatcher: {} }, 'dispatcher must be an undici Dispatcher'],
      ['a timeout of 0', { timeoutMs: 0 }, 'timeoutMs must be a positive integer, at most 2147483647'],
      ['a negative refreshBeforeSec', { refreshBeforeSec: -1 }, 'refreshBeforeSec must be an integer from 0 to 3600'],
      ['maxEntries of 0', { maxEntries: 0 }, 'maxEntries must be an integer from 1 to 10000000'],
      ['an upper-case insecure host', { insecureHttpHosts: ['Auth.Internal'] }, 'insecureHttpHosts must be a list of lower-case host names'],
    ]
    it.each(badOptions)('refuses %s when created', (_name, bad, message) => {
      expect(() => createOutboundClient({ ...options, ...bad } as OutboundClientOptions)).toThrow(new TypeError(message))
    })

    it('lets plain http reach a host named in insecureHttpHosts', () => {
      expect(() => createOutboundClient({ ...options, tokenEndpoint: 'http://auth.internal/oauth2/token', insecureHttpHosts: ['auth.internal'] })).not.toThrow()
    })
  })
})
