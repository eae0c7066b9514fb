import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthorizeOptions, RequestAuth } from '../authorization/authorize-request.js'
import { authorizeThen } from './authorize-then.js'
import { connectionSocket } from '../authorization/certificate-binding.js'
import { refuse, type AdapterHooks } from './refuse.js'

export interface NodeHttpOptions extends AuthorizeOptions, AdapterHooks<IncomingMessage> {}

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
    authorizeThen(
      { method: request.method ?? 'GET', url: request.url ?? '/', rawHeaders: request.rawHeaders, socket: connectionSocket(request) },
      options,
      (auth) => {
        // A handler that throws or rejects is the service's failure: reported, answered 500.
        const failed = (err: unknown) => {
          options.onError?.(err instanceof Error ? err : new Error(String(err)))
          // Half a response cannot be turned into an error: the connection is cut instead.
          if (response.headersSent) response.destroy()
          else response.writeHead(500, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{"error":"server_error"}')
        }
        try {
          const done = handler(request, response, auth)
          if (done instanceof Promise) done.catch(failed)
        } catch (err) {
          failed(err)
        }
      },
      (err) => {
        refuse(response, err, options, request)
      },
    )
  }
}
