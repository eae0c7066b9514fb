import type { IncomingMessage, ServerResponse } from 'node:http'
import { authorizeRequest, type AuthorizeOptions, type RequestAuth } from '../authorization/authorize-request.js'
import { refuse } from './refuse.js'

export interface NodeHttpOptions extends AuthorizeOptions {
  onError?: (err: Error) => void
}

/**
 * Wraps a plain `node:http` handler: it runs only for requests that pass, with what was learnt.
 *
 * @example
 * createServer(withMeshguard({ routes, verifier }, (req, res, auth) => res.end(auth.caller?.subject)))
 */
export function withMeshguard(
  options: NodeHttpOptions,
  handler: (request: IncomingMessage, response: ServerResponse, auth: RequestAuth) => void | Promise<void>,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    authorizeRequest({ method: request.method ?? 'GET', url: request.url ?? '/', rawHeaders: request.rawHeaders }, options).then(
      (auth) => handler(request, response, auth),
      (err: unknown) => {
        refuse(response, err, options.onError)
      },
    )
  }
}
