import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import express from 'express'
import Fastify from 'fastify'
import { TOKEN_EXCHANGE_GRANT, tokenTypes } from '@meshguard/auth-server'
import { createVerifier, OpenApiRoutes, type RequestAuth, type VerificationError, type Verifier } from '../src/index.js'
import { meshguard } from '../src/adapters/express.js'
import { meshguardFastify } from '../src/adapters/fastify.js'
import { withMeshguard } from '../src/adapters/node-http.js'
import { TestIssuer } from './helpers/test-issuer.js'

const spec = {
  openapi: '3.0.3',
  security: [{ oauth2: ['payment.read'] }],
  paths: {
    '/payments': {
      get: { operationId: 'listPayments' },
      post: { operationId: 'createPayment', security: [{ oauth2: ['payment.write'] }], 'x-meshguard-chain': ['order-service', 'cart-service'] },
    },
    '/payments/{id}': { get: { operationId: 'getPayment' } },
    '/health': { get: { operationId: 'health', security: [] } },
  },
}

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Record<string, unknown>
}

/** A raw HTTP request: the path and headers go out exactly as given. */
function send(base: string, method: string, path: string, headers: string[] = []): Promise<Reply> {
  const { port } = new URL(base)
  return new Promise((resolve, reject) => {
    // With headers given as a raw list, Node adds no Host header of its own.
    const req = request({ host: '127.0.0.1', port, method, path, headers: ['host', `127.0.0.1:${port}`, 'content-length', '0', ...headers], agent: false }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk.toString()))
      res.on('end', () => {
        resolve({ status: res.statusCode!, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

const describeAuth = (auth: RequestAuth | null | undefined) => ({
  operation: auth?.operation.operationId,
  subject: auth?.caller?.subject,
  grantedBy: auth?.grantedBy,
  chain: auth?.caller?.chain,
})

/** Each adapter is told every refusal; the suite checks what it was told. */
type OnRefused = (err: VerificationError, request: { method?: string | undefined; url?: string | undefined }) => void

type Adapter = (verifier: Verifier, routes: OpenApiRoutes, onRefused: OnRefused) => Promise<{ base: string; close(): Promise<void> }>

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
      }),
  }
}

const adapters: Record<string, Adapter> = {
  'node:http': (verifier, routes, onRefused) =>
    listen(createServer(withMeshguard({ verifier, routes, onRefused }, (_req, res, auth) => {
      res.setHeader('content-type', 'application/json').end(JSON.stringify(describeAuth(auth)))
    }))),
  express: (verifier, routes, onRefused) => {
    const app = express()
    app.use(meshguard({ verifier, routes, onRefused }))
    const answer = (req: express.Request, res: express.Response) => {
      res.json(describeAuth((req as unknown as { meshguard: RequestAuth }).meshguard))
    }
    app.get('/payments', answer)
    app.post('/payments', answer)
    app.get('/payments/:id', answer)
    app.get('/health', answer)
    return listen(createServer(app))
  },
  fastify: async (verifier, routes, onRefused) => {
    const app = Fastify()
    await app.register(meshguardFastify, { verifier, routes, onRefused })
    const answer = (req: { meshguard: RequestAuth | null }, reply: { send(body: unknown): unknown }) => {
      reply.send(describeAuth(req.meshguard))
    }
    app.get('/payments', answer)
    app.post('/payments', answer)
    app.get('/payments/:id', answer)
    app.get('/health', answer)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    return { base: `http://127.0.0.1:${port}`, close: () => app.close() }
  },
}

describe.each(Object.keys(adapters))('the %s adapter', (name) => {
  const auth = new TestIssuer()
  let verifier: Verifier
  let service: { base: string; close(): Promise<void> }
  const tokens: Record<string, string> = {}
  const bearer = (token: string) => ['authorization', `Bearer ${token}`]
  const refused: Array<{ code: string; method: string | undefined; url: string | undefined }> = []

  beforeAll(async () => {
    await auth.start()
    await auth.resource('cart-service', ['cart.write'])
    await auth.resource('order-service', ['order.write'])
    await auth.resource('payment-service', ['payment.read', 'payment.write'])
    await auth.client({ id: 'web', scopes: ['cart.write', 'order.write', 'payment.read', 'payment.write'] })
    await auth.client({ id: 'cart-service', scopes: ['order.write', 'payment.write'], grantTypes: [TOKEN_EXCHANGE_GRANT] })
    await auth.client({ id: 'order-service', scopes: ['payment.read', 'payment.write'], grantTypes: ['client_credentials', TOKEN_EXCHANGE_GRANT] })
    const cc = (client: string, scope: string) => auth.token(client, { grant_type: 'client_credentials', scope })
    const exchange = (client: string, subject: string, extra: Record<string, string>) =>
      auth.token(client, { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subject, subject_token_type: tokenTypes.accessToken, ...extra })
    tokens.read = await cc('web', 'payment.read')
    tokens.write = await cc('web', 'payment.write')
    tokens.orderOwn = await cc('order-service', 'payment.read')
    const user = await cc('web', 'cart.write order.write payment.write')
    tokens.viaCart = await exchange('cart-service', user, { scope: 'order.write payment.write' })
    tokens.viaOrder = await exchange('order-service', tokens.viaCart, { audience: 'payment-service', scope: 'payment.write' })

    verifier = createVerifier({ issuer: auth.issuer, audience: 'payment-service', jwksUri: `${auth.issuer}/.well-known/jwks.json` })
    await verifier.start()
    service = await adapters[name]!(verifier, new OpenApiRoutes(spec), (err, request) => {
      refused.push({ code: err.code, method: request.method, url: request.url })
    })
  })
  afterAll(async () => {
    await service.close()
    verifier.close()
    await auth.stop()
    auth.cleanup()
  })

  it('lets a token with the scope through, with the caller for the handler', async () => {
    const reply = await send(service.base, 'GET', '/payments/7?expand=1', bearer(tokens.read!))
    expect(reply).toMatchObject({ status: 200, body: { operation: 'getPayment', subject: 'web', grantedBy: 'caller', chain: [] } })
  })

  it('serves an explicitly public route without a token', async () => {
    expect(await send(service.base, 'GET', '/health')).toMatchObject({ status: 200, body: { operation: 'health', grantedBy: 'public' } })
  })

  it('takes scopes from a valid X-Scope-Token, identity from Authorization', async () => {
    const reply = await send(service.base, 'GET', '/payments', [...bearer(tokens.write!), 'x-scope-token', tokens.orderOwn!])
    expect(reply).toMatchObject({ status: 200, body: { subject: 'web', grantedBy: 'scope-token' } })
  })

  it('accepts the chain the operation requires', async () => {
    const reply = await send(service.base, 'POST', '/payments', bearer(tokens.viaOrder!))
    expect(reply).toMatchObject({ status: 200, body: { operation: 'createPayment', subject: 'web', chain: ['order-service', 'cart-service'] } })
  })

  const refusals: Array<[string, string, string, () => string[], number, string, RegExp | undefined]> = [
    ['no token', 'GET', '/payments', () => [], 401, 'invalid_request', /^Bearer realm="meshguard"$/],
    ['a garbage token', 'GET', '/payments', () => bearer('abc.def.ghi'), 401, 'invalid_token', /error="invalid_token"/],
    ['Basic instead of Bearer', 'GET', '/payments', () => ['authorization', 'Basic d2ViOng='], 401, 'invalid_token', /error="invalid_token"/],
    ['two Authorization headers', 'GET', '/payments', () => [...bearer(tokens.read!), ...bearer(tokens.read!)], 400, 'invalid_request', undefined],
    ['a token without the scope', 'GET', '/payments', () => bearer(tokens.write!), 403, 'insufficient_scope', /error="insufficient_scope"/],
    ['an invalid X-Scope-Token and a caller without the scope', 'GET', '/payments', () => [...bearer(tokens.write!), 'x-scope-token', 'garbage'], 403, 'insufficient_scope', undefined],
    ['X-HTTP-Method-Override to a weaker method', 'POST', '/payments', () => [...bearer(tokens.read!), 'x-http-method-override', 'GET'], 403, 'insufficient_scope', undefined],
    ['a direct call without the chain', 'POST', '/payments', () => bearer(tokens.write!), 403, 'access_denied', undefined],
    ['a call from cart-service straight to payment', 'POST', '/payments', () => bearer(tokens.viaCart!), 403, 'access_denied', undefined],
    ['a dot-dot path', 'GET', '/payments/../health', () => [], 400, 'invalid_request', undefined],
    ['an encoded dot-dot path', 'GET', '/health/%2e%2e/payments', () => bearer(tokens.read!), 400, 'invalid_request', undefined],
    ['a ..;/ path', 'GET', '/health/..;/payments', () => [], 400, 'invalid_request', undefined],
    ['a double slash', 'GET', '//payments', () => bearer(tokens.read!), 400, 'invalid_request', undefined],
    ['a trailing slash', 'GET', '/payments/', () => bearer(tokens.read!), 404, 'not_found', undefined],
    ['other case', 'GET', '/PAYMENTS', () => bearer(tokens.read!), 404, 'not_found', undefined],
    ['a route not in the spec', 'GET', '/admin', () => bearer(tokens.read!), 404, 'not_found', undefined],
  ]

  it('tells onRefused of each refusal, with its code and the request, and nothing of what it lets through', async () => {
    refused.length = 0
    await send(service.base, 'GET', '/payments/7', bearer(tokens.read!))
    await send(service.base, 'POST', '/payments?x=1', bearer(tokens.viaCart!))
    expect(refused).toEqual([{ code: 'ERR_CHAIN_REFUSED', method: 'POST', url: '/payments?x=1' }])
  })

  it.each(refusals)('refuses %s', async (_name, method, path, headers, status, error, challenge) => {
    const reply = await send(service.base, method, path, headers())
    expect({ status: reply.status, error: reply.body.error }).toEqual({ status, error })
    expect(reply.headers['cache-control']).toBe('no-store')
    if (challenge) expect(reply.headers['www-authenticate']).toMatch(challenge)
  })
})
