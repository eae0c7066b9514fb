import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import type { ListenConfig } from './config/schema.js'
import type { EdgeRequest, EdgeResponse } from './proxy/exchange.js'

/** Called for every request; `expectsContinue` when the client sent `Expect: 100-continue` and waits for the go-ahead. */
export type EdgeHandler = (req: EdgeRequest, res: EdgeResponse, expectsContinue: boolean) => void

/**
 * The listener at the edge: plain HTTP/1.1 (`node:http`), or with `listen.tls` HTTP/2 with
 * HTTP/1.1 for clients that do not offer h2 (`node:http2`, `allowHTTP1`), or HTTP/1.1 over TLS
 * when `http2` is off. `Expect: 100-continue` is left to the handler, so that a refused request
 * is refused before its body is sent. `onSession` sees every HTTP/2 session, to end them on close.
 */
export function createEdgeServer(listen: ListenConfig, handler: EdgeHandler, onSession: (session: ServerHttp2Session) => void): HttpServer | Http2SecureServer {
  const handle = (expectsContinue: boolean) => (req: EdgeRequest, res: EdgeResponse) => {
    handler(req, res, expectsContinue)
  }
  const timeouts = { keepAliveTimeout: listen.keepAliveTimeoutMs, headersTimeout: listen.headersTimeoutMs, requestTimeout: listen.requestTimeoutMs }
  if (listen.tls === undefined) {
    const server = createHttpServer(timeouts, handle(false))
    server.on('checkContinue', handle(true))
    return server
  }
  const credentials = { cert: readFileSync(listen.tls.certFile), key: readFileSync(listen.tls.keyFile) }
  if (!listen.tls.http2) {
    const server = createHttpsServer({ ...credentials, ...timeouts }, handle(false))
    server.on('checkContinue', handle(true))
    return server
  }
  // Node's HTTP/2 compatibility objects take the same flat header lists (see EdgeResponse).
  type Http2Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void
  const server = createSecureServer({ ...credentials, allowHTTP1: true }, handle(false) as unknown as Http2Handler)
  server.on('checkContinue', handle(true) as unknown as Http2Handler)
  server.on('session', onSession)
  server.setTimeout(listen.keepAliveTimeoutMs)
  return server
}
