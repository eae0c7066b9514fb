import { GatewayError } from '../errors.js'
import type { Exchange } from '../proxy/exchange.js'

/**
 * Refuses a body declared larger than the route allows, before a byte of it is read (and before
 * `100 Continue`). Bodies of unknown length are counted as they stream (`limit-body.ts`).
 *
 * @throws GatewayError `ERR_BODY_TOO_LARGE`
 */
export function checkBodySize(exchange: Exchange): void {
  const { contentLength } = exchange.headers
  const limit = exchange.route!.bodyLimitBytes
  if (contentLength !== undefined && Number(contentLength) > limit) throw tooLarge(limit)
}

export function tooLarge(limit: number): GatewayError {
  return new GatewayError('ERR_BODY_TOO_LARGE', `the request body is larger than the ${limit} bytes this route accepts`)
}
