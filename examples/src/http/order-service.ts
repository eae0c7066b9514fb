import type { FastifyInstance } from 'fastify'
import { callerTokenOf, healthOperation, healthRoute, oauth2Components, sightingOf, type HttpServiceDefinition } from './http-service.js'
import type { Peers } from './peers.js'

const NAME = 'order-service'

interface OrderRequest {
  Body: { cartId: string; items: Array<{ sku: string; quantity: number; unitPriceCents: number }>; paymentMethod: 'card' | 'invoice' }
}

const orderBody = {
  type: 'object',
  required: ['cartId', 'items', 'paymentMethod'],
  additionalProperties: false,
  properties: {
    cartId: { type: 'string', maxLength: 64 },
    paymentMethod: { type: 'string', enum: ['card', 'invoice'] },
    items: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        required: ['sku', 'quantity', 'unitPriceCents'],
        additionalProperties: false,
        properties: { sku: { type: 'string', maxLength: 64 }, quantity: { type: 'integer', minimum: 1, maximum: 1000 }, unitPriceCents: { type: 'integer', minimum: 0 } },
      },
    },
  },
} as const

/**
 * The chain's middle: it takes orders only from cart-service acting for a shopper, and has each
 * paid by payment-service, exchanging the token again so that payment-service sees the whole path.
 */
export const orderService: HttpServiceDefinition = {
  name: NAME,
  openApi: {
    openapi: '3.0.3',
    info: { title: 'Order service', version: '1.0.0', description: 'Orders, paid through payment-service.' },
    components: oauth2Components({ 'order.w': 'place orders' }),
    security: [{ oauth2: ['order.w'] }],
    paths: {
      '/orders': {
        post: {
          operationId: 'placeOrder',
          'x-meshguard-chain': ['cart-service'],
          requestBody: { required: true, content: { 'application/json': { schema: orderBody } } },
          responses: { '201': { description: 'The order, paid.' } },
        },
      },
      '/health': healthOperation,
    },
  },
  routes(app: FastifyInstance, peers: Peers) {
    let placed = 0
    healthRoute(app, NAME)

    app.post<OrderRequest>('/orders', { schema: { body: orderBody } }, async (request, reply) => {
      placed += 1
      const order = { id: `o-${placed}`, cartId: request.body.cartId, amountCents: request.body.items.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0) }
      const payment = await peers.call('payment-service', '/payments', {
        method: 'POST',
        body: { orderId: order.id, amountCents: order.amountCents, method: request.body.paymentMethod },
        credentials: { caller: callerTokenOf(request), exchange: { audience: 'payment-service', scope: 'payment.w' } },
      })
      const paid = payment.status === 201
      return reply
        .code(paid ? 201 : (payment.status ?? 502))
        .send({ service: NAME, saw: sightingOf(NAME, request), order: { ...order, status: paid ? 'paid' : 'unpaid' }, downstream: { 'payment-service': payment } })
    })
  },
}
