import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthorizeOptions, RequestAuth } from '../authorization/authorize-request.js'
import { authorizeThen } from './authorize-then.js'
import { connectionSocket } from '../authorization/certificate-binding.js'
import { refuse, type AdapterHooks } from './refuse.js'

type ConnectRequest = IncomingMessage & { originalUrl?: string; meshguard?: RequestAuth }

export interface ConnectOptions extends AuthorizeOptions, AdapterHooks<ConnectRequest> {}

/**
 * Express or Connect middleware. Mount it before every route; the result is on `req.meshguard`.
 * The path is the request's original URL, never one a router has rewritten.
 *
 * @example
 * app.use(meshguard({ routes, verifier }))
 */
export function meshguard(options: ConnectOptions): (request: ConnectRequest, response: ServerResponse, next: (err?: unknown) => void) => void {
  return (request, response, next) => {
    const url = request.originalUrl ?? request.url ?? '/'
    authorizeThen(
      { method: request.method ?? 'GET', url, rawHeaders: request.rawHeaders, socket: connectionSocket(request) },
      options,
      (auth) => {
        request.meshguard = auth
        next()
      },
      (err) => {
        refuse(response, err, options, request)
      },
    )
  }
}
