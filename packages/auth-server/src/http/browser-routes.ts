import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { authorize, showInteraction, submitConsent, submitLogin, type BrowserRequest, type FlowResult } from '../authorize/authorize-flow.js'
import { endSession } from '../authorize/end-session.js'
import { renderPage } from '../authorize/pages.js'
import { endpointPaths, type ServerContext } from '../context.js'
import { OAuthError } from '../errors.js'
import { FormParams, parseFormBody } from './form-params.js'

/**
 * The pages a browser visits: `/authorize`, the sign-in and consent steps of an interaction, and
 * RP-initiated logout. Answers are redirects or HTML, never JSON; a malformed request gets an
 * error page, since until the client and redirect URI are known there is nowhere safe to send it.
 */
export function browserRoutes(ctx: ServerContext) {
  return (app: FastifyInstance, _options: unknown, done: (err?: Error) => void) => {
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseFormBody)
    app.setErrorHandler((err, request, reply) => {
      if (err instanceof OAuthError && err.status < 500) {
        return send(reply, { kind: 'page', status: err.status, page: { view: 'error', title: 'This request is not valid', message: err.description } })
      }
      const status = (err as { statusCode?: number }).statusCode
      if (status !== undefined && status >= 400 && status < 500) {
        return send(reply, { kind: 'page', status, page: { view: 'error', title: 'This request is not valid', message: 'The form could not be read.' } })
      }
      ctx.logger.error({ err, method: request.method, url: request.url }, 'request failed')
      return send(reply, { kind: 'page', status: 500, page: { view: 'error', title: 'Something went wrong', message: 'Try again later.' } })
    })

    app.get(endpointPaths.authorization, async (request, reply) => send(reply, await authorize(ctx, browserRequest(request, queryParams(request)))))
    app.post(endpointPaths.authorization, async (request, reply) => send(reply, await authorize(ctx, browserRequest(request))))

    const interaction = `${endpointPaths.interaction}/:id`
    app.get<{ Params: { id: string } }>(interaction, async (request, reply) =>
      send(reply, await showInteraction(ctx, request.params.id, browserRequest(request))),
    )
    app.post<{ Params: { id: string } }>(`${interaction}/login`, async (request, reply) =>
      send(reply, await submitLogin(ctx, request.params.id, browserRequest(request))),
    )
    app.post<{ Params: { id: string } }>(`${interaction}/consent`, async (request, reply) =>
      send(reply, await submitConsent(ctx, request.params.id, browserRequest(request))),
    )

    app.get(endpointPaths.endSession, async (request, reply) => send(reply, await endSession(ctx, browserRequest(request, queryParams(request)), 'GET')))
    app.post(endpointPaths.endSession, async (request, reply) => send(reply, await endSession(ctx, browserRequest(request), 'POST')))
    done()
  }
}

function browserRequest(request: FastifyRequest, params?: FormParams): BrowserRequest {
  return {
    params: params ?? (request.body instanceof FormParams ? request.body : FormParams.empty()),
    cookieHeader: request.headers.cookie,
    ip: request.ip,
  }
}

/** The query string, read with the form rules (RFC 6749 §3.1: no parameter twice). */
function queryParams(request: FastifyRequest): FormParams {
  const query = request.url.indexOf('?')
  return query === -1 ? FormParams.empty() : FormParams.parse(request.url.slice(query + 1))
}

function send(reply: FastifyReply, result: FlowResult): FastifyReply {
  if (result.cookies && result.cookies.length > 0) reply.header('set-cookie', result.cookies)
  if (result.kind === 'redirect') {
    return reply.code(reply.request.method === 'GET' ? 302 : 303).header('location', result.location).header('cache-control', 'no-store').send()
  }
  const { html, headers } = renderPage(result.page)
  if (result.retryAfterSec !== undefined) reply.header('retry-after', String(result.retryAfterSec))
  return reply.code(result.status).headers(headers).send(html)
}
