/**
 * One Fastify 5 server for the Fastify plugin benchmark, serving `GET /orders/:id` with a small
 * JSON body, in the configuration named by its first argument:
 *
 * - `baseline`: no authentication at all;
 * - `empty-hook`: an async `onRequest` hook that does nothing, the least any such plugin costs;
 * - `meshguard`: the service kit's plugin, verified-token cache on (its default);
 * - `meshguard-uncached`: the same with `cacheSize: 0`, so every request verifies the signature;
 * - `fastify-jwt`: `@fastify/jwt` (fast-jwt) with its verified-token cache, and a scope check.
 *
 * The second argument is a JSON {@link PluginBenchSetup}. Started by fastify-plugin.js, which it
 * tells where it listens; counts the requests it receives for the CPU-per-request figure. The
 * benchmark imports only this file's types.
 */
import { createPublicKey } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import fastifyJwt from '@fastify/jwt'
import Fastify, { type FastifyInstance } from 'fastify'
import { createVerifier, OpenApiRoutes, type StaticKey } from '@meshguard/service-kit'
import { meshguardFastify } from '@meshguard/service-kit/fastify'
import { serveBench } from './server-process.js'

/** The configurations, by name. */
export type PluginServer = 'baseline' | 'empty-hook' | 'meshguard' | 'meshguard-uncached' | 'fastify-jwt'

/** What every server is told: whose tokens to accept, and the scope the route needs. */
export interface PluginBenchSetup {
  issuer: string
  audience: string
  scope: string
  /** The issuer's ES256 public key. */
  jwk: StaticKey
}

/** What a server reports once it listens. */
export interface PluginTarget {
  /** The route, e.g. `http://127.0.0.1:41234/orders/42`. */
  url: string
}

const builders: Record<PluginServer, (app: FastifyInstance, setup: PluginBenchSetup) => Promise<void>> = {
  baseline: () => Promise.resolve(),
  'empty-hook': (app) => {
    app.addHook('onRequest', async () => {})
    return Promise.resolve()
  },
  meshguard: (app, setup) => registerMeshguard(app, setup, undefined),
  'meshguard-uncached': (app, setup) => registerMeshguard(app, setup, 0),
  'fastify-jwt': registerFastifyJwt,
}

const [name = '', json] = process.argv.slice(2)
if (!Object.hasOwn(builders, name) || json === undefined) {
  throw new TypeError(`usage: fastify-plugin-server.js <${Object.keys(builders).join('|')}> <setup JSON>`)
}
const setup = JSON.parse(json) as PluginBenchSetup
const app = Fastify()
let received = 0
app.server.on('request', () => {
  received += 1
})
await builders[name as PluginServer](app, setup)
app.get<{ Params: { id: string } }>('/orders/:id', (request) => ({ id: request.params.id, status: 'shipped', items: 3 }))
await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address() as AddressInfo
serveBench<PluginTarget>({ url: `http://127.0.0.1:${port}/orders/42` }, () => app.close(), { requests: () => received })

/** The service kit as a service would use it: its OpenAPI document says the route needs the scope. */
async function registerMeshguard(app: FastifyInstance, setup: PluginBenchSetup, cacheSize: number | undefined): Promise<void> {
  const routes = new OpenApiRoutes({
    openapi: '3.1.0',
    paths: { '/orders/{id}': { get: { operationId: 'getOrder', security: [{ meshguard: [setup.scope] }] } } },
  })
  const verifier = createVerifier({ issuer: setup.issuer, audience: setup.audience, keys: [setup.jwk], ...(cacheSize === undefined ? {} : { cacheSize }) })
  await app.register(meshguardFastify, { routes, verifier })
}

/**
 * `@fastify/jwt` in verify-only mode with the same checks as the service kit's verifier where
 * fast-jwt has them (algorithm, `typ`, issuer, audience, 30 s clock tolerance), its verified-token
 * cache on (1,000 tokens), and the scope check a service has to write itself.
 */
async function registerFastifyJwt(app: FastifyInstance, setup: PluginBenchSetup): Promise<void> {
  const publicKey = createPublicKey({ key: setup.jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
  await app.register(fastifyJwt, {
    secret: { public: publicKey },
    verify: { algorithms: ['ES256'], checkTyp: 'at+jwt', allowedIss: setup.issuer, allowedAud: setup.audience, clockTolerance: 30_000, cache: true },
  })
  app.addHook('onRequest', async (request, reply) => {
    const { scope } = await request.jwtVerify<{ scope?: unknown }>()
    if (typeof scope !== 'string' || !scope.split(' ').includes(setup.scope)) {
      return reply.code(403).send({ error: 'insufficient_scope' })
    }
  })
}
