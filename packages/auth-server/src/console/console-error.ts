import { PkiError } from '@meshguard/pki'
import type { FastifyReply } from 'fastify'
import type { z } from 'zod'
import { MeshguardError, OAuthError } from '../errors.js'

/** Refusals of the console's own API; each is listed in `docs/errors.md`. */
export const consoleErrorCodes = [
  'ERR_CONSOLE_SIGN_IN_REQUIRED',
  'ERR_CONSOLE_NOT_ADMIN',
  'ERR_CONSOLE_CSRF',
  'ERR_CONSOLE_BAD_REQUEST',
  'ERR_CONSOLE_NOT_FOUND',
  'ERR_CONSOLE_ROTATION_NOT_DUE',
] as const

export type ConsoleErrorCode = (typeof consoleErrorCodes)[number]

const STATUS: Readonly<Record<ConsoleErrorCode, number>> = {
  ERR_CONSOLE_SIGN_IN_REQUIRED: 401,
  ERR_CONSOLE_NOT_ADMIN: 403,
  ERR_CONSOLE_CSRF: 403,
  ERR_CONSOLE_BAD_REQUEST: 400,
  ERR_CONSOLE_NOT_FOUND: 404,
  ERR_CONSOLE_ROTATION_NOT_DUE: 409,
}

/** The HTTP status of each code the console passes through from the functions the CLI shares. */
const SHARED_STATUS: Readonly<Record<string, number>> = {
  ERR_INVALID_ARGUMENT: 400,
  ERR_STORE_CONFLICT: 409,
  ERR_STORE_NOT_FOUND: 404,
  ERR_NOT_FOUND: 404,
  ERR_CA_MISSING: 409,
}

/** A refusal of the console API, answered as `{"error": code, "message": ...}` with the code's status. */
export class ConsoleError extends Error {
  readonly status: number

  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'ConsoleError'
    this.status = STATUS[code]
  }
}

/** A request body that fails its schema, every problem listed. */
export function badRequest(error: z.ZodError): ConsoleError {
  return new ConsoleError('ERR_CONSOLE_BAD_REQUEST', error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '))
}

/** Parses a request body or query against its schema; `ERR_CONSOLE_BAD_REQUEST` otherwise. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input)
  if (!parsed.success) throw badRequest(parsed.error)
  return parsed.data
}

/** What the console says of an error: its code and status, or, for an unexpected one, nothing but a 500. */
export function describeError(err: unknown): { status: number; code: string; message: string } | undefined {
  if (err instanceof ConsoleError) return { status: err.status, code: err.code, message: err.message }
  if (err instanceof MeshguardError || err instanceof PkiError) {
    const status = SHARED_STATUS[err.code]
    if (status !== undefined) return { status, code: err.code, message: err.message }
  }
  // A form the shared form parser refused (a parameter sent twice).
  if (err instanceof OAuthError && err.status < 500) return { status: err.status, code: 'ERR_CONSOLE_BAD_REQUEST', message: err.description }
  const fastifyStatus = (err as { statusCode?: unknown }).statusCode
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) {
    return { status: fastifyStatus, code: 'ERR_CONSOLE_BAD_REQUEST', message: (err as Error).message }
  }
  return undefined
}

/** The one mapping of console API errors to HTTP. */
export function sendConsoleError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').type('application/json').send({ error: code, message })
}
