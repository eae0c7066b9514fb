import type { FastifyInstance } from 'fastify'
import { callerTokenOf, healthOperation, healthRoute, oauth2Components, sightingOf, type HttpServiceDefinition } from './http-service.js'
import type { PeerAnswer, Peers } from './peers.js'

const NAME = 'api-a'

interface Note {
  id: number
  text: string
  by: string
}

interface InventoryBody {
  items?: Array<{ sku: string; name: string; available: number | null }>
}

interface PricesBody {
  prices?: Record<string, number>
}

/**
 * Seed 004's API A: a product summary it builds from API B (inventory, which asks API D for
 * stock) and API C (prices). It forwards its caller's token to both, with its own token for
 * their scopes in `X-Scope-Token`, and shows what every hop saw.
 */
export const apiA: HttpServiceDefinition = {
  name: NAME,
  openApi: {
    openapi: '3.0.3',
    info: { title: 'API A', version: '1.0.0', description: 'Product summaries from API B and API C.' },
    components: oauth2Components({ 'a.r': 'read summaries', 'a.w': 'add notes' }),
    security: [{ oauth2: ['a.r'] }],
    paths: {
      '/summary': {
        get: { operationId: 'getSummary', responses: { '200': { description: 'The summary, and what each service on the way saw.' }, '502': { description: 'A service on the way failed.' } } },
      },
      '/notes': {
        post: {
          operationId: 'addNote',
          security: [{ oauth2: ['a.w'] }],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } } } },
          responses: { '201': { description: 'The note.' } },
        },
      },
      '/health': healthOperation,
    },
  },
  routes(app: FastifyInstance, peers: Peers) {
    const notes: Note[] = []
    healthRoute(app, NAME)

    app.get('/summary', async (request, reply) => {
      const caller = callerTokenOf(request)
      const [inventory, prices] = await Promise.all([
        peers.call('api-b', '/inventory', { credentials: { caller, scopeToken: { scope: 'b.r', audience: 'api-b' } } }),
        peers.call('api-c', '/prices', { credentials: { caller, scopeToken: { scope: 'c.r', audience: 'api-c' } } }),
      ])
      const complete = inventory.status === 200 && prices.status === 200
      return reply.code(complete ? 200 : 502).send({
        service: NAME,
        saw: sightingOf(NAME, request),
        products: complete ? products(inventory, prices) : null,
        notes,
        downstream: { 'api-b': inventory, 'api-c': prices },
      })
    })

    app.post<{ Body: { text: string } }>(
      '/notes',
      { schema: { body: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 500 } } } } },
      (request, reply) => {
        const note = { id: notes.length + 1, text: request.body.text, by: sightingOf(NAME, request).subject ?? 'unknown' }
        notes.push(note)
        return reply.code(201).send(note)
      },
    )
  },
}

function products(inventory: PeerAnswer, prices: PeerAnswer) {
  const priceOf = (prices.body as PricesBody).prices ?? {}
  return ((inventory.body as InventoryBody).items ?? []).map((item) => ({ ...item, priceCents: priceOf[item.sku] ?? null }))
}
