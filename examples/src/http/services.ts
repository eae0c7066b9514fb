import { apiA } from './api-a.js'
import { apiB } from './api-b.js'
import { apiC } from './api-c.js'
import { apiD } from './api-d.js'
import { cartService } from './cart-service.js'
import type { HttpServiceDefinition } from './http-service.js'
import { orderService } from './order-service.js'
import { paymentService } from './payment-service.js'

/** Every demo HTTP service, by name: the mesh plan's `http` services. */
export const httpServiceDefinitions: Readonly<Record<string, HttpServiceDefinition>> = Object.fromEntries(
  [apiA, apiB, apiC, apiD, cartService, orderService, paymentService].map((definition) => [definition.name, definition]),
)
