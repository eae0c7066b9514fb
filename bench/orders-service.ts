import type { ServiceDefinition } from '@grpc/grpc-js'

/** What every steady-state server answers, over HTTP/2 as the body of `GET /orders/42` and over gRPC as the reply. */
export const ORDER_JSON = '{"id":"42","status":"shipped","items":3}'
export const ORDER_PATH = '/orders/42'
export const ORDER_REQUEST = Buffer.from('{"id":"42"}')
export const ORDER_REPLY = Buffer.from(ORDER_JSON)

const bytes = (value: Buffer): Buffer => value

/**
 * One unary gRPC method, `/bench.Orders/GetOrder`, whose messages are raw bytes: no protobuf
 * code in either process, so the figures are gRPC's, HTTP/2's and TLS's.
 */
export const ordersService = {
  getOrder: {
    path: '/bench.Orders/GetOrder',
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
    originalName: 'getOrder',
  },
} satisfies ServiceDefinition
