import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AuthorizeOptions, RequestAuth } from '../authorization/authorize-request.js'
import { authorizeThen } from './authorize-then.js'
import { connectionSocket } from '../authorization/certificate-binding.js'
import { refuse, type AdapterHooks } from './refuse.js'

declare module 'fastify' {
  interface FastifyRequest {
    meshguard: RequestAuth | null
  }
}

export interface FastifyMeshguardOptions extends AuthorizeOptions, AdapterHooks<FastifyRequest> {}

/**
 * Fastify plugin: every request is authorised in `onRequest`, before routing work, on the raw
 * URL. The result is on `request.meshguard`. Applies to the whole instance it is registered on.
 *
 * @example
 * await app.register(meshguardFastify, { routes, verifier, onRefused: (err, request) => log.info({ code: err.code, url: request.url }, 'refused') })
 */
export function meshguardFastify(app: FastifyInstance, options: FastifyMeshguardOptions, done: (err?: Error) => void): void {
  app.decorateRequest('meshguard', null)
  // A callback hook, not an async one: a request whose tokens are all in the verifier's cache
  // is decided without a promise.
  app.addHook('onRequest', (request, reply, next) => {
    const { raw } = request
    authorizeThen(
      { method: raw.method ?? 'GET', url: raw.url ?? '/', rawHeaders: raw.rawHeaders, socket: connectionSocket(raw) },
      options,
      (auth) => {
        request.meshguard = auth
        next()
      },
      (err) => {
        reply.hijack()
        refuse(reply.raw, err, options, request)
      },
    )
  })
  done()
}
// Like fastify-plugin: the hook belongs to the instance the plugin is registered on, not a child.
Object.assign(meshguardFastify, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'meshguard' })
