import type { IncomingMessage, ServerResponse } from 'node:http'
import { authorizeRequest, type AuthorizeOptions, type RequestAuth } from '../authorization/authorize-request.js'
import { refuse } from './refuse.js'

export interface ConnectOptions extends AuthorizeOptions {
  onError?: (err: Error) => void
}

type ConnectRequest = IncomingMessage & { originalUrl?: string; meshguard?: RequestAuth }

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
    authorizeRequest({ method: request.method ?? 'GET', url, rawHeaders: request.rawHeaders }, options).then(
      (auth) => {
        request.meshguard = auth
        next()
      },
      (err: unknown) => {
        refuse(response, err, options.onError)
      },
    )
  }
}
