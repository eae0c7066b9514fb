import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { InvalidClient, InvalidRequest, OAuthError, ServerError } from '../errors.js'

/** Fastify's own errors that are really a malformed OAuth request. */
const FASTIFY_REQUEST_ERRORS: Record<string, (err: FastifyError) => OAuthError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new InvalidRequest('content type must be application/x-www-form-urlencoded'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new InvalidRequest('invalid Content-Length'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new InvalidRequest('request body is too large', 413),
  FST_ERR_CTP_EMPTY_TYPE: () => new InvalidRequest('content type must be application/x-www-form-urlencoded'),
  FST_ERR_CTP_INVALID_TYPE: () => new InvalidRequest('content type must be application/x-www-form-urlencoded'),
}

/** Any error as the OAuth error it is, unknown errors becoming `server_error`. */
export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err
  const code = (err as Partial<FastifyError> | undefined)?.code
  const mapped = code === undefined ? undefined : FASTIFY_REQUEST_ERRORS[code]
  return mapped ? mapped(err as FastifyError) : new ServerError('internal error')
}

/**
 * The one mapping of errors to HTTP: RFC 6749 §5.2 JSON, `no-store`, and for `invalid_client`
 * the 401 challenge §5.2 requires.
 */
export function sendOAuthError(reply: FastifyReply, error: OAuthError): FastifyReply {
  reply.code(error.status).header('cache-control', 'no-store').header('pragma', 'no-cache')
  if (error instanceof InvalidClient) reply.header('www-authenticate', 'Basic realm="meshguard", charset="UTF-8"')
  return reply.type('application/json').send(error.toJSON())
}

export function oauthErrorHandler(logger: Logger, err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = toOAuthError(err)
  if (error.status >= 500) logger.error({ err, method: request.method, url: request.url }, 'request failed')
  return sendOAuthError(reply, error)
}

/**
 * RFC 6750 §3 for a protected resource (`/userinfo`): the error in a `Bearer` challenge, with no
 * error code when the request carried no token at all (§3.1).
 */
export function sendBearerError(logger: Logger, err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = toOAuthError(err)
  if (error.status >= 500) logger.error({ err, method: request.method, url: request.url }, 'request failed')
  const challenge =
    request.headers.authorization === undefined
      ? 'Bearer realm="meshguard"'
      : `Bearer realm="meshguard", error="${error.error}", error_description="${error.description.replace(/["\\]/g, '')}"`
  reply.code(error.status).header('cache-control', 'no-store').header('pragma', 'no-cache').header('www-authenticate', challenge)
  return reply.type('application/json').send(error.toJSON())
}
