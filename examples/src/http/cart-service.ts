import type { FastifyInstance } from 'fastify'
import { callerTokenOf, healthOperation, healthRoute, oauth2Components, sightingOf, type HttpServiceDefinition } from './http-service.js'
import type { Peers } from './peers.js'

const NAME = 'cart-service'

interface CartLine {
  sku: string
  quantity: number
  unitPriceCents: number
}

const CARTS: Readonly<Record<string, readonly CartLine[]>> = {
  'c-1001': [
    { sku: 'tea-earl-grey', quantity: 2, unitPriceCents: 650 },
    { sku: 'pot-cast-iron', quantity: 1, unitPriceCents: 4200 },
  ],
  'c-1002': [{ sku: 'tea-sencha', quantity: 3, unitPriceCents: 890 }],
}

const cartParams = { type: 'object', required: ['cartId'], properties: { cartId: { type: 'string', pattern: '^c-[0-9]{1,9}$' } } } as const
const checkoutBody = { type: 'object', additionalProperties: false, properties: { paymentMethod: { type: 'string', enum: ['card', 'invoice'] } } } as const

interface CheckoutRequest {
  Params: { cartId: string }
  Body: { paymentMethod?: 'card' | 'invoice' } | undefined
}

/**
 * The head of the token chain: checking a cart out places an order with order-service, on the
 * shopper's behalf. The shopper's token is exchanged (RFC 8693) for one naming cart-service as
 * its actor, addressed to order-service and to payment-service, where order-service will exchange
 * it again. `pay-directly` is the demo's shortcut past order-service, which payment-service refuses.
 * A refusal or failure further on is answered with that service's status.
 */
export const cartService: HttpServiceDefinition = {
  name: NAME,
  openApi: {
    openapi: '3.0.3',
    info: { title: 'Cart service', version: '1.0.0', description: 'Shopping carts and their checkout.' },
    components: oauth2Components({ 'cart.w': 'check carts out' }),
    security: [{ oauth2: ['cart.w'] }],
    paths: {
      '/carts/{cartId}/checkout': {
        post: {
          operationId: 'checkOut',
          parameters: [{ name: 'cartId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '201': { description: 'The order placed, paid.' }, '404': { description: 'No such cart.' } },
        },
      },
      '/carts/{cartId}/pay-directly': {
        post: {
          operationId: 'payDirectly',
          description: 'Pays without an order, skipping order-service: payment-service refuses it (x-meshguard-chain).',
          parameters: [{ name: 'cartId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '403': { description: "payment-service's refusal." } },
        },
      },
      '/health': healthOperation,
    },
  },
  routes(app: FastifyInstance, peers: Peers) {
    healthRoute(app, NAME)

    app.post<CheckoutRequest>('/carts/:cartId/checkout', { schema: { params: cartParams, body: checkoutBody } }, async (request, reply) => {
      const items = CARTS[request.params.cartId]
      if (items === undefined) return reply.code(404).send({ error: 'not_found', error_description: `no cart ${request.params.cartId}` })
      const order = await peers.call('order-service', '/orders', {
        method: 'POST',
        body: { cartId: request.params.cartId, items, paymentMethod: request.body?.paymentMethod ?? 'card' },
        credentials: { caller: callerTokenOf(request), exchange: { audience: ['order-service', 'payment-service'], scope: ['order.w', 'payment.w'] } },
      })
      return reply.code(order.status === 201 ? 201 : (order.status ?? 502)).send({ service: NAME, saw: sightingOf(NAME, request), downstream: { 'order-service': order } })
    })

    app.post<CheckoutRequest>('/carts/:cartId/pay-directly', { schema: { params: cartParams, body: checkoutBody } }, async (request, reply) => {
      const items = CARTS[request.params.cartId]
      if (items === undefined) return reply.code(404).send({ error: 'not_found', error_description: `no cart ${request.params.cartId}` })
      const payment = await peers.call('payment-service', '/payments', {
        method: 'POST',
        body: { orderId: `cart-${request.params.cartId}`, amountCents: total(items), method: request.body?.paymentMethod ?? 'card' },
        credentials: { caller: callerTokenOf(request), exchange: { audience: 'payment-service', scope: 'payment.w' } },
      })
      return reply.code(payment.status ?? 502).send({ service: NAME, saw: sightingOf(NAME, request), downstream: { 'payment-service': payment } })
    })
  },
}

function total(items: readonly CartLine[]): number {
  return items.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0)
}
