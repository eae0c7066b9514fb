import type { ServerResponse } from 'node:http'
import { VerificationError } from '../errors.js'
import { httpRefusal } from '../http-status.js'

/** What every HTTP adapter can be told besides what to authorise: where failures and refusals go. */
export interface AdapterHooks<Request> {
  /** The service's own failures (not refusals): an authorization step that threw something unexpected. */
  onError?: ((err: Error) => void) | undefined
  /**
   * Every refused request, with the reason, after the refusal is answered: for audit trails and
   * call maps. What it throws goes to `onError`; it never changes the answer.
   */
  onRefused?: ((err: VerificationError, request: Request) => void) | undefined
}

/** Answers a refusal the one way every adapter does: status, challenge, OAuth JSON, no-store. Then tells `onRefused`. */
export function refuse<Request>(response: ServerResponse, err: unknown, hooks: AdapterHooks<Request>, request: Request): void {
  const { onError, onRefused } = hooks
  if (!(err instanceof VerificationError)) {
    onError?.(err instanceof Error ? err : new Error(String(err)))
    response.writeHead(500, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{"error":"server_error"}')
    return
  }
  const { status, wwwAuthenticate, body } = httpRefusal(err)
  response
    .writeHead(status, { 'www-authenticate': wwwAuthenticate, 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(body))
  if (onRefused === undefined) return
  try {
    onRefused(err, request)
  } catch (hookError) {
    onError?.(hookError instanceof Error ? hookError : new Error(String(hookError)))
  }
}
