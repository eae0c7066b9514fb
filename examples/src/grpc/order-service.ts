import { status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js'
import type { CreateOrderRequest__Output } from './generated/meshguard/demo/CreateOrderRequest.js'
import type { GetOrderRequest__Output } from './generated/meshguard/demo/GetOrderRequest.js'
import type { Order } from './generated/meshguard/demo/Order.js'
import type { OrderServiceHandlers } from './generated/meshguard/demo/OrderService.js'
import type { WatchOrdersRequest__Output } from './generated/meshguard/demo/WatchOrdersRequest.js'
import { checkPricedItem } from './check-priced-item.js'
import { LiveStreams } from './live-streams.js'

/** Lines one order may have at most. */
export const MAX_ORDER_LINES = 100
/** The longest name an order may have. */
export const MAX_ORDER_NAME_LENGTH = 200

/**
 * `OrderService`: orders in memory (seed 000's Order exercise: an order, its lines, each line's
 * product). The server numbers orders in sequence and each order's lines from 1. `WatchOrders`
 * sends the orders placed so far, then each new one, until the client cancels or the call is
 * ended. Authorisation happens before a handler runs, in the service kit's interceptor.
 *
 * @example
 * const orders = orderService()
 * server.addService(OrderService.service, orders.handlers)
 */
export function orderService(): { handlers: OrderServiceHandlers; close(): void } {
  const orders = new Map<number, Order>()
  const watchers = new Set<(order: Order) => void>()
  const watches = new LiveStreams()
  let lastId = 0

  const handlers: OrderServiceHandlers = {
    CreateOrder(call: ServerUnaryCall<CreateOrderRequest__Output, Order>, callback: sendUnaryData<Order>) {
      const problem = checkOrder(call.request)
      if (problem !== undefined) {
        callback({ code: status.INVALID_ARGUMENT, details: problem })
        return
      }
      const id = ++lastId
      const order: Order = {
        id,
        name: call.request.name.trim(),
        lines: call.request.lines.map(({ quantity, product }, index) => ({
          id: index + 1,
          quantity,
          product: { id: product!.id, description: product!.description.trim(), price: product!.price },
        })),
      }
      orders.set(id, order)
      for (const watcher of watchers) watcher(order)
      callback(null, order)
    },

    GetOrder(call: ServerUnaryCall<GetOrderRequest__Output, Order>, callback: sendUnaryData<Order>) {
      const order = orders.get(call.request.id)
      if (order === undefined) callback({ code: status.NOT_FOUND, details: `no order ${call.request.id}` })
      else callback(null, order)
    },

    WatchOrders(call: ServerWritableStream<WatchOrdersRequest__Output, Order>) {
      const send = (order: Order) => {
        call.write(order)
      }
      watchers.add(send)
      watches.track(call, () => {
        watchers.delete(send)
      })
      for (const order of orders.values()) send(order)
    },
  }

  return {
    handlers,
    close() {
      watches.endAll('the order service is shutting down')
    },
  }
}

function checkOrder(request: CreateOrderRequest__Output): string | undefined {
  const name = request.name.trim()
  if (name === '' || name.length > MAX_ORDER_NAME_LENGTH) return `name must be 1 to ${MAX_ORDER_NAME_LENGTH} characters`
  if (request.lines.length === 0 || request.lines.length > MAX_ORDER_LINES) return `an order has 1 to ${MAX_ORDER_LINES} lines`
  for (const [index, line] of request.lines.entries()) {
    if (!Number.isInteger(line.quantity) || line.quantity < 1) return `lines[${index}].quantity must be at least 1`
    if (line.product === null) return `lines[${index}].product is required`
    const problem = checkPricedItem(line.product, `lines[${index}].product`)
    if (problem !== undefined) return problem
  }
  return undefined
}
