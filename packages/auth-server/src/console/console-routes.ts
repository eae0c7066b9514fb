import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ServerContext } from '../context.js'
import { FormParams, parseFormBody } from '../http/form-params.js'
import { AuditEventStream } from './audit-event-stream.js'
import { consoleAssets, type ConsoleAsset } from './console-assets.js'
import { ConsoleError, describeError, sendConsoleError } from './console-error.js'
import { logout, showConsole, showLogin, submitLogin, type PageResult } from './console-login.js'
import { consoleBase, PAGE_HEADERS, renderConsolePage } from './console-pages.js'
import type { ConsoleRoute } from './console-route.js'
import { consoleVisitor, requireAdmin } from './console-session.js'
import { certificateRoutes } from './manage-certificates.js'
import { clientRoutes } from './manage-clients.js'
import { keyRoutes } from './manage-keys.js'
import { resourceServerRoutes } from './manage-resource-servers.js'
import { userRoutes } from './manage-users.js'
import { observeRoutes } from './observe-routes.js'

/** The console's API, one file of routes per section. */
const sections = [observeRoutes, clientRoutes, resourceServerRoutes, keyRoutes, certificateRoutes, userRoutes]

/**
 * The administration console under `<issuer>/console`: server-rendered pages (sign-in, the
 * shell), its one script and one stylesheet, and a JSON API under `/console/api` for signed-in
 * administrators, with a Server-Sent Events stream of the audit log at `/console/api/events`.
 */
export function consoleRoutes(ctx: ServerContext) {
  return (app: FastifyInstance, _options: unknown, done: (err?: Error) => void) => {
    const assets = consoleAssets()
    const stream = new AuditEventStream({ audit: ctx.audit })

    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseFormBody)
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, parsed) => {
      try {
        parsed(null, body === '' ? undefined : JSON.parse(body as string))
      } catch (err) {
        parsed(new ConsoleError('ERR_CONSOLE_BAD_REQUEST', `the body is not JSON: ${(err as Error).message}`), undefined)
      }
    })
    app.setErrorHandler((err, request, reply) => {
      const known = describeError(err)
      if (known === undefined) ctx.logger.error({ err, method: request.method, url: request.url }, 'console request failed')
      const { status, code, message } = known ?? { status: 500, code: 'ERR_CONSOLE_INTERNAL', message: 'something went wrong; the details are in the server log' }
      if (request.url.includes('/console/api/')) return sendConsoleError(reply, status, code, message)
      return sendPage(ctx, reply, { kind: 'page', status, page: { view: 'refused', title: status >= 500 ? 'Something went wrong' : 'This request is not valid', message } })
    })
    app.addHook('preClose', (closed) => {
      stream.closeAll()
      closed()
    })

    app.get('/console', async (request, reply) => sendPage(ctx, reply, await showConsole(ctx, request.headers.cookie)))
    app.get('/console/', (_request, reply) => reply.redirect(consoleBase(ctx), 301))
    app.get('/console/login', async (request, reply) => sendPage(ctx, reply, await showLogin(ctx, request.headers.cookie)))
    app.post('/console/login', async (request, reply) => sendPage(ctx, reply, await submitLogin(ctx, pageRequest(request))))
    app.post('/console/logout', async (request, reply) => sendPage(ctx, reply, await logout(ctx, pageRequest(request))))
    for (const asset of [assets.script, assets.style]) {
      app.get(`/console/assets/${asset.name}`, (_request, reply) => sendAsset(reply, asset))
    }

    app.get('/console/api/events', { exposeHeadRoute: false }, async (request, reply) => {
      const admin = await requireAdmin(ctx, apiRequest(request))
      reply.hijack()
      stream.serve(reply.raw, async () => {
        const visitor = await consoleVisitor(ctx, request.headers.cookie)
        return visitor.kind === 'admin' && visitor.admin.session.idHash === admin.session.idHash
      })
    })
    for (const route of sections.flatMap((section) => section(ctx))) register(app, ctx, route)
    app.all('/console/api/*', () => {
      throw new ConsoleError('ERR_CONSOLE_NOT_FOUND', 'no such console API call')
    })
    done()
  }
}

function register(app: FastifyInstance, ctx: ServerContext, route: ConsoleRoute): void {
  app.route({
    method: route.method,
    url: `/console/api${route.url}`,
    handler: async (request, reply) => {
      const admin = await requireAdmin(ctx, apiRequest(request))
      const body = await route.handler({ admin, body: request.body, query: request.query, params: request.params as Record<string, string> })
      return reply
        .code(route.status ?? 200)
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .type('application/json')
        .send(JSON.stringify(body))
    },
  })
}

function apiRequest(request: FastifyRequest) {
  return { method: request.method, cookieHeader: request.headers.cookie, csrfHeader: request.headers['x-csrf-token'] }
}

function pageRequest(request: FastifyRequest) {
  return { params: request.body instanceof FormParams ? request.body : FormParams.empty(), cookieHeader: request.headers.cookie, ip: request.ip }
}

function sendPage(ctx: ServerContext, reply: FastifyReply, result: PageResult): FastifyReply {
  if (result.cookies && result.cookies.length > 0) reply.header('set-cookie', result.cookies)
  if (result.kind === 'redirect') {
    return reply.code(reply.request.method === 'GET' ? 302 : 303).header('location', result.location).header('cache-control', 'no-store').send()
  }
  if (result.retryAfterSec !== undefined) reply.header('retry-after', String(result.retryAfterSec))
  return reply.code(result.status).headers(PAGE_HEADERS).send(renderConsolePage(ctx, result.page))
}

/** Named after its content: cached for good. */
function sendAsset(reply: FastifyReply, asset: ConsoleAsset): FastifyReply {
  return reply
    .type(asset.contentType)
    .header('cache-control', 'public, max-age=31536000, immutable')
    .header('x-content-type-options', 'nosniff')
    .send(asset.body)
}
