import type { ServerResponse } from 'node:http'
import { VerificationError } from '../errors.js'
import { httpRefusal } from '../http-status.js'

/** Answers a refusal the one way every adapter does: status, challenge, OAuth JSON, no-store. */
export function refuse(response: ServerResponse, err: unknown, onError?: (err: Error) => void): void {
  if (!(err instanceof VerificationError)) {
    onError?.(err instanceof Error ? err : new Error(String(err)))
    response.writeHead(500, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{"error":"server_error"}')
    return
  }
  const { status, wwwAuthenticate, body } = httpRefusal(err)
  response
    .writeHead(status, { 'www-authenticate': wwwAuthenticate, 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(body))
}
