import http2 from 'node:http2'
import { Client, type ChannelCredentials } from '@grpc/grpc-js'
import type { Agent } from 'undici'
import type { LoadConnection } from './measure-steady-load.js'
import { ORDER_JSON, ORDER_PATH, ORDER_REPLY, ORDER_REQUEST, ordersService } from './orders-service.js'

const { getOrder } = ordersService

/**
 * One `node:http2` client session to `authority` (`https://…` with `options`, or `http://…` for
 * h2c), each request a `GET /orders/42` that must answer 200 with the order.
 */
export function h2Connection(authority: string, options?: http2.SecureClientSessionOptions): LoadConnection {
  const session = http2.connect(authority, options)
  let closed = false
  const markClosed = () => {
    closed = true
  }
  session.on('close', markClosed)
  session.on('goaway', markClosed)
  // Requests under way fail with the session's error; the next one opens another session.
  session.on('error', markClosed)
  return {
    get closed() {
      return closed
    },
    request: () =>
      new Promise((resolve) => {
        const stream = session.request({ ':path': ORDER_PATH })
        let status = 0
        let body = ''
        stream.setEncoding('utf8')
        stream.on('response', (headers) => {
          status = Number(headers[':status'])
        })
        stream.on('data', (chunk: string) => {
          body += chunk
        })
        stream.on('end', () => {
          resolve(status === 200 && body === ORDER_JSON ? undefined : `HTTP/2 ${status}: ${body.slice(0, 200)}`)
        })
        stream.on('error', (err) => {
          resolve(`HTTP/2 stream: ${err.message}`)
        })
      }),
    close: () =>
      new Promise((resolve) => {
        if (session.closed || session.destroyed) resolve()
        else session.close(resolve)
      }),
  }
}

/**
 * One grpc-js client to `address` with its own subchannel (so its own connection), each request
 * a `GetOrder` call that must answer the order. grpc-js reconnects by itself, so the client is
 * never replaced; the server counts the connections it sees.
 */
export function grpcConnection(address: string, credentials: ChannelCredentials): LoadConnection {
  const client = new Client(address, credentials, {
    'grpc.use_local_subchannel_pool': 1,
    // The server certificate names localhost; the SPIFFE-checking credentials ignore host names.
    'grpc.ssl_target_name_override': 'localhost',
  })
  return {
    closed: false,
    request: () =>
      new Promise((resolve) => {
        client.makeUnaryRequest(getOrder.path, getOrder.requestSerialize, getOrder.responseDeserialize, ORDER_REQUEST, (err, reply) => {
          if (err) resolve(`gRPC ${err.code}: ${err.details}`)
          else resolve(reply?.equals(ORDER_REPLY) ? undefined : `gRPC reply ${String(reply)}`)
        })
      }),
    close: () => {
      client.close()
      return Promise.resolve()
    },
  }
}

/**
 * Requests through one undici `Agent`, shared by every slot of the load: the agent decides how
 * many connections to open, which is what its figures show. Each request is a `GET /orders/42`
 * that must answer 200 with the order.
 */
export function agentConnection(agent: Agent, origin: string): LoadConnection {
  return {
    closed: false,
    request: async () => {
      try {
        const { statusCode, body } = await agent.request({ origin, path: ORDER_PATH, method: 'GET' })
        const text = await body.text()
        return statusCode === 200 && text === ORDER_JSON ? undefined : `undici ${statusCode}: ${text.slice(0, 200)}`
      } catch (err) {
        return `undici: ${err instanceof Error ? err.message : String(err)}`
      }
    },
    // Closed once by whoever made the agent.
    close: () => Promise.resolve(),
  }
}
