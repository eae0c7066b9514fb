/**
 * The upstream service of the gateway benchmark: a plain node:http server on loopback that
 * answers every request with the same small JSON body, `{"id":"42","status":"shipped","items":3}`,
 * except one path, its first argument, where it answers `{"authorization": <the header it got>}`
 * for the benchmark's checks. Direct, nginx and the gateway all load this one process, so its
 * request count is the count of requests each proxy forwarded. Started by gateway.js, which it
 * tells where it listens.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ORDER_JSON } from './orders-service.js'
import { serveBench } from './server-process.js'

/** What the upstream reports once it listens. */
export interface UpstreamTarget {
  /** Its origin, e.g. `http://127.0.0.1:41234`. */
  origin: string
}

/** Longer than either proxy keeps an idle upstream connection, so that neither meets a connection this side closed. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000
const body = Buffer.from(ORDER_JSON)
const [echoPath] = process.argv.slice(2)
let received = 0
const server = createServer((request, response) => {
  received += 1
  if (request.url === echoPath) {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ authorization: request.headers.authorization }))
    return
  }
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
  response.end(body)
})
server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo
const close = () =>
  new Promise<void>((resolve, reject) => {
    server.close((err) => {
      if (err) reject(err)
      else resolve()
    })
    server.closeAllConnections()
  })
serveBench<UpstreamTarget>({ origin: `http://127.0.0.1:${port}` }, close, { requests: () => received })
