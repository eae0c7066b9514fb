/**
 * One server for the mutual TLS benchmark, in the configuration named by its first argument:
 *
 * - `tls`: `tls.createServer(mtlsServerOptions(identity))`, answering openssl s_time's page
 *   request on each connection, then closing it (the handshake benchmark);
 * - `tls-authorizer`: the same with the service kit's `PeerAuthorizer` attached, which checks the
 *   client's SPIFFE ID after every handshake;
 * - `h2c`, `h2-tls`, `h2-mtls`, `h2-mtls-caller`: `node:http2` servers answering `GET /orders/42`
 *   in clear text, over TLS without client certificates (the service kit's options with
 *   `requestCert: false`), over mutual TLS with `PeerAuthorizer` attached, and the same with the
 *   handler asking `PeerAuthorizer.authorize(request)` for the caller on every request;
 * - `grpc-insecure`, `grpc-tls`, `grpc-mtls`: grpc-js servers of `/bench.Orders/GetOrder` with
 *   insecure credentials, `ServerCredentials.createSsl` without client certificates, and
 *   `mtlsServerCredentials`, whose handler reads the caller from `grpcPeerId`.
 *
 * The second argument is the JSON {@link MtlsFiles}. Started by mtls.js, which it tells the port
 * it listens on; counts the requests it answers and the connections (TLS sessions) it accepts.
 */
import { readFile } from 'node:fs/promises'
import http2 from 'node:http2'
import type { Socket } from 'node:net'
import tls from 'node:tls'
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js'
import { mtlsServerOptions, PeerAuthorizer, PeerRefusalError, WorkloadIdentity } from '@meshguard/service-kit/tls'
import { grpcPeerId, mtlsServerCredentials } from '@meshguard/service-kit/tls/grpc'
import { CLIENT_ID, PAGE_REQUEST, PAGE_RESPONSE, type MtlsFiles } from './mtls-credentials.js'
import { ORDER_JSON, ORDER_REPLY, ordersService } from './orders-service.js'
import { serveBench } from './server-process.js'

/** The configurations, by name. */
export type MtlsServer = 'tls' | 'tls-authorizer' | 'h2c' | 'h2-tls' | 'h2-mtls' | 'h2-mtls-caller' | 'grpc-insecure' | 'grpc-tls' | 'grpc-mtls'

/** What a server reports once it listens on 127.0.0.1. */
export interface MtlsTarget {
  port: number
}

interface Listening {
  port: number
  close: () => Promise<void>
}

const builders: Record<MtlsServer, (identity: WorkloadIdentity, files: MtlsFiles) => Promise<Listening>> = {
  tls: (identity) => pageServer(identity, false),
  'tls-authorizer': (identity) => pageServer(identity, true),
  h2c: () => listen(http2.createServer(answerOrder), 'connection'),
  'h2-tls': (identity) => listen(http2.createSecureServer({ ...mtlsServerOptions(identity), requestCert: false }, answerOrder), 'secureConnection'),
  'h2-mtls': (identity) => h2Mtls(identity, false),
  'h2-mtls-caller': (identity) => h2Mtls(identity, true),
  'grpc-insecure': () => grpcServer(ServerCredentials.createInsecure(), false),
  'grpc-tls': async (_identity, files) => {
    const [ca, cert, key] = await Promise.all([files.trustBundle, files.server.certificateChain, files.server.privateKey].map((file) => readFile(file)))
    return grpcServer(ServerCredentials.createSsl(ca!, [{ cert_chain: cert!, private_key: key! }], false), false)
  },
  'grpc-mtls': (identity) => grpcServer(mtlsServerCredentials(identity, { allow: [CLIENT_ID], onRefusal: reportRefusal }), true),
}

const [name = '', json] = process.argv.slice(2)
if (!Object.hasOwn(builders, name) || json === undefined) {
  throw new TypeError(`usage: mtls-server.js <${Object.keys(builders).join('|')}> <files JSON>`)
}
const files = JSON.parse(json) as MtlsFiles
let answered = 0
let accepted = 0
const identity = await WorkloadIdentity.fromFiles({ certificateChain: files.server.certificateChain, privateKey: files.server.privateKey, trustBundle: files.trustBundle })
const server = await builders[name as MtlsServer](identity, files)
serveBench<MtlsTarget>({ port: server.port }, server.close, { requests: () => answered, connections: () => accepted })

/** Refusals are failures of the benchmark; its clients see them too, and the output is shown if the process fails. */
function reportRefusal(refusal: PeerRefusalError): void {
  console.error(`refused: ${refusal.code} ${refusal.message}`)
}

/**
 * The handshake benchmark's server: one page request per connection, as openssl s_server
 * `-WWW` answers it, then the connection is closed.
 */
function pageServer(identity: WorkloadIdentity, authorize: boolean): Promise<Listening> {
  const server = tls.createServer(mtlsServerOptions(identity), (socket) => {
    let request = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      request += chunk
      if (!request.endsWith('\r\n\r\n')) return
      if (request === PAGE_REQUEST) answered += 1
      socket.end(request === PAGE_REQUEST ? PAGE_RESPONSE : 'HTTP/1.0 404 not found\r\n\r\n')
    })
    // Clients hang up as they please (openssl s_time closes without close_notify).
    socket.on('error', () => {})
  })
  if (authorize) new PeerAuthorizer({ trustDomain: identity.trustDomain, allow: [CLIENT_ID], onRefusal: reportRefusal }).attach(server)
  return listen(server, 'secureConnection')
}

function h2Mtls(identity: WorkloadIdentity, askCaller: boolean): Promise<Listening> {
  const peers = new PeerAuthorizer({ trustDomain: identity.trustDomain, allow: [CLIENT_ID], onRefusal: reportRefusal })
  const handler = askCaller
    ? (request: http2.Http2ServerRequest, response: http2.Http2ServerResponse) => {
        try {
          peers.authorize(request)
        } catch (err) {
          if (!(err instanceof PeerRefusalError)) throw err
          response.writeHead(403).end()
          return
        }
        answerOrder(request, response)
      }
    : answerOrder
  const server = http2.createSecureServer(mtlsServerOptions(identity), handler)
  peers.attach(server)
  return listen(server, 'secureConnection')
}

function answerOrder(_request: http2.Http2ServerRequest, response: http2.Http2ServerResponse): void {
  answered += 1
  response.writeHead(200, { 'content-type': 'application/json' })
  response.end(ORDER_JSON)
}

/**
 * Listens on 127.0.0.1, port 0, counting the connections `event` announces and keeping them, so
 * that closing the server ends those the benchmark left open.
 */
function listen(server: tls.Server | http2.Http2Server, event: 'connection' | 'secureConnection'): Promise<Listening> {
  const open = new Set<Socket>()
  server.on(event, (socket: Socket) => {
    accepted += 1
    open.add(socket)
    socket.once('close', () => open.delete(socket))
  })
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        resolve()
      })
      for (const socket of open) socket.destroy()
    })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') reject(new Error('not listening on TCP'))
      else resolve({ port: address.port, close })
    })
  })
}

/**
 * A grpc-js server of the orders service. The caller's connection is told apart by its address
 * (`call.getPeer()`), grpc-js having no connection event; with mutual TLS, the handler asks the
 * service kit who the caller is.
 */
function grpcServer(credentials: ServerCredentials, mtls: boolean): Promise<Listening> {
  const peers = new Set<string>()
  const server = new Server()
  server.addService(ordersService, {
    getOrder(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) {
      const peer = call.getPeer()
      if (!peers.has(peer)) {
        peers.add(peer)
        accepted += 1
      }
      if (mtls && grpcPeerId(call).uri !== CLIENT_ID) {
        callback({ code: status.PERMISSION_DENIED, details: 'not the benchmark client' })
        return
      }
      answered += 1
      callback(null, ORDER_REPLY)
    },
  })
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (err, port) => {
      if (err) {
        reject(err)
        return
      }
      resolve({
        port,
        close: () => {
          server.forceShutdown()
          return Promise.resolve()
        },
      })
    })
  })
}
