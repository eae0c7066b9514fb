import type { FastifyInstance } from 'fastify'
import { healthOperation, healthRoute, oauth2Components, sightingOf, type HttpServiceDefinition } from './http-service.js'

const NAME = 'api-c'

const PRICES: Readonly<Record<string, number>> = { 'tea-earl-grey': 650, 'tea-sencha': 890, 'pot-cast-iron': 4200 }

/** Seed 004's API C: prices, in cents. */
export const apiC: HttpServiceDefinition = {
  name: NAME,
  openApi: {
    openapi: '3.0.3',
    info: { title: 'API C', version: '1.0.0', description: 'Prices.' },
    components: oauth2Components({ 'c.r': 'read prices' }),
    security: [{ oauth2: ['c.r'] }],
    paths: {
      '/prices': { get: { operationId: 'listPrices', responses: { '200': { description: 'Prices by SKU, in cents.' } } } },
      '/health': healthOperation,
    },
  },
  routes(app: FastifyInstance) {
    healthRoute(app, NAME)
    app.get('/prices', (request) => ({ service: NAME, saw: sightingOf(NAME, request), currency: 'EUR', prices: PRICES }))
  },
}
