import type { FastifyInstance } from 'fastify'
import { callerTokenOf, healthOperation, healthRoute, oauth2Components, sightingOf, type HttpServiceDefinition } from './http-service.js'
import type { Peers } from './peers.js'

const NAME = 'api-b'

const CATALOGUE = [
  { sku: 'tea-earl-grey', name: 'Earl Grey, 100 g' },
  { sku: 'tea-sencha', name: 'Sencha, 100 g' },
  { sku: 'pot-cast-iron', name: 'Cast-iron teapot' },
]

/**
 * Seed 004's API B: the inventory. It asks API D for stock the way API A asks it: the caller's
 * token forwarded, its own token for `d.r` in `X-Scope-Token`.
 */
export const apiB: HttpServiceDefinition = {
  name: NAME,
  openApi: {
    openapi: '3.0.3',
    info: { title: 'API B', version: '1.0.0', description: 'The inventory, with stock from API D.' },
    components: oauth2Components({ 'b.r': 'read the inventory' }),
    security: [{ oauth2: ['b.r'] }],
    paths: {
      '/inventory': { get: { operationId: 'listInventory', responses: { '200': { description: 'Items with their stock.' }, '502': { description: 'API D failed.' } } } },
      '/health': healthOperation,
    },
  },
  routes(app: FastifyInstance, peers: Peers) {
    healthRoute(app, NAME)
    app.get('/inventory', async (request, reply) => {
      const stock = await peers.call('api-d', '/stock', { credentials: { caller: callerTokenOf(request), scopeToken: { scope: 'd.r', audience: 'api-d' } } })
      const levels = stock.status === 200 ? ((stock.body as { stock?: Record<string, number> }).stock ?? {}) : {}
      return reply.code(stock.status === 200 ? 200 : 502).send({
        service: NAME,
        saw: sightingOf(NAME, request),
        items: CATALOGUE.map((item) => ({ ...item, available: levels[item.sku] ?? null })),
        downstream: { 'api-d': stock },
      })
    })
  },
}
