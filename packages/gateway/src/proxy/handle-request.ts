import { serveGatewayPath } from '../respond/serve-gateway-path.js'
import { refuse } from '../respond/refuse.js'
import { RESERVED_PREFIX } from '../config/url-checks.js'
import { authenticate } from '../steps/authenticate.js'
import { checkBodySize } from '../steps/check-body-size.js'
import { checkCredentialPlacement } from '../steps/check-credential-placement.js'
import { forwardToUpstream } from '../steps/forward-to-upstream.js'
import { handleCors } from '../steps/handle-cors.js'
import { limitPerClient, limitPerIp } from '../steps/limit-rate.js'
import { matchRoute } from '../steps/match-route.js'
import { readRequest } from '../steps/read-request.js'
import type { Exchange } from './exchange.js'

/**
 * One step of the request path. It returns nothing to go on (or, having answered the request
 * itself, sets `exchange.answered`), a promise when it has to wait; it throws (or rejects) to
 * refuse.
 */
type Step = (exchange: Exchange) => void | Promise<void>

/** Every request through a route, in order. Cheap refusals come before the token check, the per-client limit after it. */
const steps: readonly Step[] = [
  readRequest,
  matchRoute,
  handleCors,
  checkCredentialPlacement,
  limitPerIp,
  authenticate,
  limitPerClient,
  checkBodySize,
  forwardToUpstream,
]

/** Handles one request: the gateway's own paths, or the steps, synchronously as far as nothing has to be awaited. */
export function handleRequest(exchange: Exchange): void {
  const url = exchange.req.url ?? '/'
  if (url.startsWith(RESERVED_PREFIX)) {
    exchange.internal = true
    const q = url.indexOf('?')
    serveGatewayPath(exchange, q < 0 ? url : url.slice(0, q))
    return
  }
  runSteps(exchange, 0)
}

function runSteps(exchange: Exchange, from: number): void {
  if (exchange.clientGone) return
  try {
    for (let i = from; i < steps.length; i += 1) {
      const result = steps[i]!(exchange)
      if (exchange.answered) return
      if (result === undefined) continue
      result.then(
        () => {
          runSteps(exchange, i + 1)
        },
        (err: unknown) => {
          refuse(exchange, err)
        },
      )
      return
    }
  } catch (err) {
    refuse(exchange, err)
  }
}
