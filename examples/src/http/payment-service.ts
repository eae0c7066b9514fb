import type { FastifyInstance } from 'fastify'
import { healthOperation, healthRoute, oauth2Components, sightingOf, type HttpServiceDefinition } from './http-service.js'

const NAME = 'payment-service'

interface PaymentRequest {
  Body: { orderId: string; amountCents: number; method: 'card' | 'invoice' }
}

const paymentBody = {
  type: 'object',
  required: ['orderId', 'amountCents', 'method'],
  additionalProperties: false,
  properties: { orderId: { type: 'string', maxLength: 64 }, amountCents: { type: 'integer', minimum: 1 }, method: { type: 'string', enum: ['card', 'invoice'] } },
} as const

/**
 * The chain's end: it takes payments only from order-service acting for cart-service acting for
 * the shopper (`x-meshguard-chain`), so neither cart-service nor the shopper can pay directly.
 */
export const paymentService: HttpServiceDefinition = {
  name: NAME,
  openApi: {
    openapi: '3.0.3',
    info: { title: 'Payment service', version: '1.0.0', description: 'Captures payments for orders.' },
    components: oauth2Components({ 'payment.w': 'capture payments' }),
    security: [{ oauth2: ['payment.w'] }],
    paths: {
      '/payments': {
        post: {
          operationId: 'capturePayment',
          'x-meshguard-chain': ['order-service', 'cart-service'],
          requestBody: { required: true, content: { 'application/json': { schema: paymentBody } } },
          responses: { '201': { description: 'The payment, captured.' } },
        },
      },
      '/health': healthOperation,
    },
  },
  routes(app: FastifyInstance) {
    const payments: Array<{ id: string; orderId: string; amountCents: number; method: string; status: 'captured'; payer: string | null }> = []
    healthRoute(app, NAME)

    app.post<PaymentRequest>('/payments', { schema: { body: paymentBody } }, (request, reply) => {
      const saw = sightingOf(NAME, request)
      const payment = { id: `p-${payments.length + 1}`, ...request.body, status: 'captured' as const, payer: saw.subject }
      payments.push(payment)
      return reply.code(201).send({ service: NAME, saw, payment })
    })
  },
}
