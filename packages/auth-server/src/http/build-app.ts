import { TLSSocket } from 'node:tls'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerFactory } from 'fastify'
import { AUDIT_INGEST_BODY_LIMIT, auditIngestEndpoint } from '../actions/audit-ingest.js'
import { discoveryDocument } from '../actions/discovery.js'
import { introspectionEndpoint } from '../actions/introspection.js'
import { revocationEndpoint } from '../actions/revocation.js'
import { RevocationStream } from '../actions/revocation-stream.js'
import type { EndpointRequest } from '../actions/authenticate.js'
import { tokenEndpoint } from '../actions/token.js'
import { userinfoEndpoint } from '../actions/userinfo.js'
import type { Listener } from '../client-auth/context.js'
import { consoleRoutes } from '../console/console-routes.js'
import { endpointPaths, issuerPath, type ServerContext } from '../context.js'
import { InvalidRequest } from '../errors.js'
import { clientCertificate } from './client-certificate.js'
import { browserRoutes } from './browser-routes.js'
import { oauthErrorHandler, sendBearerError, sendOAuthError, toOAuthError } from './error-handler.js'
import { FormParams, parseFormBody } from './form-params.js'

export interface AppOptions {
  /** Which listener the app serves; `mtls` reads the client certificate of each request's connection. */
  listener: Listener
  /** Creates the server the app listens with (the mutual-TLS listener's HTTPS server); Fastify's own by default. */
  serverFactory?: FastifyServerFactory | undefined
}

/**
 * The authorization server's HTTP surface, separate from `listen()` so tests can `inject()`.
 * Built once per listener from the same context: the routes are the same on both.
 */
export function buildApp(ctx: ServerContext, options: AppOptions = { listener: 'plain' }): FastifyInstance {
  // Fastify gets no logger: a per-request child logger costs more than the request's own logic.
  // Handlers log through ctx.logger, with what they know.
  const app = Fastify({
    trustProxy: ctx.config.http.trustProxy,
    bodyLimit: ctx.config.http.bodyLimitBytes,
    return503OnClosing: true,
    ...(options.serverFactory && { serverFactory: options.serverFactory }),
  })
  const prefix = issuerPath(ctx.config.issuer)
  const { listener } = options

  app.addHook('onResponse', (request, reply, done) => {
    ctx.metrics.observeRequest(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000)
    done()
  })

  void app.register(
    (oauth, _options, done) => {
      oauth.removeAllContentTypeParsers()
      oauth.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseFormBody)
      oauth.setErrorHandler((err, request, reply) => oauthErrorHandler(ctx.logger, err, request, reply))

      const endpointRequest = ({ headers, body, raw }: FastifyRequest): EndpointRequest => ({
        authorization: headers.authorization,
        params: body instanceof FormParams ? body : FormParams.empty(),
        listener,
        clientCertificate: listener === 'mtls' && raw.socket instanceof TLSSocket ? clientCertificate(raw.socket) : undefined,
      })
      const postOnly = (_request: FastifyRequest, reply: FastifyReply) =>
        sendOAuthError(reply.header('allow', 'POST'), new InvalidRequest('this endpoint accepts only POST', 405))

      oauth.post(endpointPaths.token, async (request, reply) => {
        const body = await tokenEndpoint(ctx, endpointRequest(request))
        return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(body)
      })
      oauth.post(endpointPaths.introspection, async (request, reply) => {
        const { contentType, body } = await introspectionEndpoint(ctx, { ...endpointRequest(request), accept: request.headers.accept })
        reply.header('cache-control', 'no-store').header('pragma', 'no-cache').header('vary', 'accept')
        return typeof body === 'string' ? reply.type(contentType).send(body) : reply.send(body)
      })
      oauth.post(endpointPaths.revocation, async (request, reply) => {
        await revocationEndpoint(ctx, endpointRequest(request))
        return reply.header('cache-control', 'no-store').code(200).send()
      })
      const userinfo = async (request: FastifyRequest, reply: FastifyReply) => {
        try {
          const claims = await userinfoEndpoint(ctx, { authorization: request.headers.authorization, clientCertificate: endpointRequest(request).clientCertificate })
          return await reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(claims)
        } catch (err) {
          return sendBearerError(ctx.logger, err, request, reply)
        }
      }
      oauth.get(endpointPaths.userinfo, userinfo)
      oauth.post(endpointPaths.userinfo, userinfo)
      for (const path of [endpointPaths.token, endpointPaths.introspection, endpointPaths.revocation]) {
        oauth.route({ method: ['GET', 'PUT', 'DELETE', 'PATCH'], url: path, handler: postOnly })
      }
      done()
    },
    { prefix },
  )

  void app.register(
    (ingest, _options, done) => {
      ingest.removeAllContentTypeParsers()
      ingest.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: AUDIT_INGEST_BODY_LIMIT }, (_request, body, parsed) => {
        parsed(null, body)
      })
      ingest.setErrorHandler((err, request, reply) => {
        const code = (err as { code?: string }).code
        const wrongType = code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_EMPTY_TYPE' || code === 'FST_ERR_CTP_INVALID_TYPE'
        return oauthErrorHandler(ctx.logger, wrongType ? new InvalidRequest('content type must be application/json') : toOAuthError(err), request, reply)
      })
      ingest.post(endpointPaths.auditEvents, { bodyLimit: AUDIT_INGEST_BODY_LIMIT }, async (request, reply) => {
        const { headers, raw } = request
        const body = await auditIngestEndpoint(ctx, {
          authorization: headers.authorization,
          body: typeof request.body === 'string' ? request.body : '',
          listener,
          clientCertificate: listener === 'mtls' && raw.socket instanceof TLSSocket ? clientCertificate(raw.socket) : undefined,
        })
        return reply.code(202).header('cache-control', 'no-store').send(body)
      })
      ingest.route({
        method: ['GET', 'PUT', 'DELETE', 'PATCH'],
        url: endpointPaths.auditEvents,
        handler: (_request, reply) => sendOAuthError(reply.header('allow', 'POST'), new InvalidRequest('this endpoint accepts only POST', 405)),
      })
      done()
    },
    { prefix },
  )

  void app.register(browserRoutes(ctx), { prefix })
  // For the browsers of administrators, who reach the plain listener: never on the mutual-TLS one.
  if (listener === 'plain') void app.register(consoleRoutes(ctx), { prefix })

  const metadata = (_request: FastifyRequest, reply: FastifyReply) =>
    reply.header('cache-control', 'public, max-age=300').send(discoveryDocument(ctx))
  // OpenID Connect Discovery §4 appends to the issuer; RFC 8414 §3 inserts before its path.
  app.get(`${prefix}/.well-known/openid-configuration`, metadata)
  app.get(`/.well-known/oauth-authorization-server${prefix}`, metadata)

  const jwksMaxAge = Math.min(300, ctx.config.signing.publishAheadSec)
  app.get(`${prefix}${endpointPaths.jwks}`, (_request, reply) =>
    reply.type('application/json').header('cache-control', `public, max-age=${jwksMaxAge}`).send(ctx.keys.jwksJson()),
  )

  const revocationStream = new RevocationStream(ctx)
  app.get(`${prefix}${endpointPaths.revocationEvents}`, (_request, reply) => {
    reply.hijack()
    revocationStream.serve(reply.raw)
  })
  app.addHook('preClose', (done) => {
    revocationStream.closeAll()
    done()
  })

  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    const problems: string[] = []
    await ctx.store.ping().catch((err: unknown) => problems.push(`store: ${(err as Error).message}`))
    if (!ctx.keys.hasSigner()) problems.push('keys: no active signing key')
    return reply.code(problems.length === 0 ? 200 : 503).send({ status: problems.length === 0 ? 'ready' : 'not ready', problems })
  })
  app.get('/metrics', async (_request, reply) =>
    reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  )
  return app
}
