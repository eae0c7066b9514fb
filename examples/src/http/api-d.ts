import type { FastifyInstance } from 'fastify'
import { healthOperation, healthRoute, oauth2Components, sightingOf, type HttpServiceDefinition } from './http-service.js'

const NAME = 'api-d'

/** Seed 004's API D: stock levels. */
export const apiD: HttpServiceDefinition = {
  name: NAME,
  openApi: {
    openapi: '3.0.3',
    info: { title: 'API D', version: '1.0.0', description: 'Stock levels.' },
    components: oauth2Components({ 'd.r': 'read stock levels' }),
    security: [{ oauth2: ['d.r'] }],
    paths: {
      '/stock': { get: { operationId: 'listStock', responses: { '200': { description: 'Units in stock by SKU.' } } } },
      '/health': healthOperation,
    },
  },
  routes(app: FastifyInstance) {
    const stock: Record<string, number> = { 'tea-earl-grey': 42, 'tea-sencha': 17, 'pot-cast-iron': 3 }
    healthRoute(app, NAME)
    app.get('/stock', (request) => ({ service: NAME, saw: sightingOf(NAME, request), stock }))
  },
}
