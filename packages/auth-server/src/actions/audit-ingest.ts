import { z } from 'zod'
import type { ServerContext } from '../context.js'
import { InvalidRequest } from '../errors.js'
import { FormParams } from '../http/form-params.js'
import { authenticate, claimedIdentity, type EndpointRequest } from './authenticate.js'
import { recordRefusal } from './record-refusal.js'

/** The most calls one request may report. */
export const MAX_REPORTED_CALLS = 500
/** The largest body the endpoint reads: a full batch of ordinary calls fits many times over. */
export const AUDIT_INGEST_BODY_LIMIT = 1024 * 1024
/** How far ahead of the server's clock a reported call may be stamped. */
const MAX_CLOCK_AHEAD_MS = 5 * 60_000
/** Client authentication parameters a JSON body may carry, as a form body would (RFC 6749 §2.3.1, RFC 7523 §2.2, RFC 8705 §2). */
const CLIENT_AUTH_MEMBERS = ['client_id', 'client_secret', 'client_assertion_type', 'client_assertion'] as const

const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters')

const serviceCall = z.strictObject({
  /** Milliseconds since the epoch. */
  ts: z.number().int().nonnegative(),
  decision: z.enum(['allow', 'deny']),
  service: text(200),
  caller: text(200).nullish(),
  subject: text(200).nullish(),
  /** The caller's delegation chain, most recent actor first. */
  act: z.array(text(200)).max(16).nullish(),
  method: text(32),
  path: text(2048),
  reason: text(500).nullish(),
})

/** Other members, the client authentication parameters among them, are not the batch's concern. */
const batch = z.object({ events: z.array(serviceCall).min(1).max(MAX_REPORTED_CALLS) })

/** One call a service allowed or refused, as it reports it. */
export type ServiceCall = z.infer<typeof serviceCall>

export interface AuditIngestRequest extends Omit<EndpointRequest, 'params'> {
  /** The request body, unparsed: `application/json`. */
  body: string
}

/**
 * `POST /audit/events`: a service reports the calls it allowed and refused, each recorded as a
 * `service.call` audit event. The service authenticates as a confidential client, exactly as for
 * introspection (client authentication parameters go in the JSON object where a form body would
 * carry them), and reports only calls to itself: every event's `service` is its client id. The
 * batch is checked whole before anything is recorded, so a refused batch leaves no trace but
 * its refusal.
 *
 * @returns how many calls were recorded.
 * @throws InvalidRequest 400 for a body that is not JSON or not a batch of calls, 403 for a call
 *   to another service; InvalidClient 401 when client authentication fails or the client is public.
 */
export async function auditIngestEndpoint(ctx: ServerContext, request: AuditIngestRequest): Promise<{ accepted: number }> {
  let clientId: string | undefined
  let params = FormParams.empty()
  try {
    const json = parseJson(request.body)
    params = clientAuthParams(json)
    const { client } = await authenticate(ctx, 'auditEvents', { ...request, params })
    clientId = client.id
    const calls = parseBatch(json, ctx.clock.now())
    const foreign = calls.findIndex((call) => call.service !== client.id)
    if (foreign !== -1) {
      throw new InvalidRequest(`a service reports only calls to itself: events.${foreign}.service is "${calls[foreign]!.service}", not the authenticated client "${client.id}"`, 403)
    }
    for (const call of calls) {
      ctx.audit.record({
        ts: call.ts,
        type: 'service.call',
        decision: call.decision,
        clientId: call.caller ?? undefined,
        subject: call.subject ?? undefined,
        act: call.act ?? undefined,
        reason: call.reason ?? undefined,
        details: { service: call.service, method: call.method, path: call.path, reporter: client.id },
      })
    }
    return { accepted: calls.length }
  } catch (err) {
    recordRefusal(ctx, err, {
      endpoint: 'audit_events',
      type: 'audit_events.refused',
      clientId,
      details: clientId === undefined ? claimedIdentity({ ...request, params }) : undefined,
    })
    throw err
  }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body)
  } catch (err) {
    throw new InvalidRequest(`the body is not JSON: ${(err as Error).message}`)
  }
}

/** The members that authenticate the client, read like form parameters; anything else is left to the batch's schema. */
function clientAuthParams(json: unknown): FormParams {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return FormParams.empty()
  const form = new URLSearchParams()
  for (const name of CLIENT_AUTH_MEMBERS) {
    const value: unknown = (json as Record<string, unknown>)[name]
    if (value === undefined) continue
    if (typeof value !== 'string') throw new InvalidRequest(`"${name}" must be a string`)
    form.set(name, value)
  }
  return FormParams.parse(form.toString())
}

function parseBatch(json: unknown, now: number): ServiceCall[] {
  const parsed = batch.safeParse(json)
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
    const more = parsed.error.issues.length > 5 ? `; and ${parsed.error.issues.length - 5} more` : ''
    throw new InvalidRequest(`the body is not a batch of service calls: ${problems.join('; ')}${more}`)
  }
  const { events } = parsed.data
  const ahead = events.findIndex((call) => call.ts > now + MAX_CLOCK_AHEAD_MS)
  if (ahead !== -1) throw new InvalidRequest(`events.${ahead}.ts is more than ${MAX_CLOCK_AHEAD_MS / 60_000} minutes ahead of the server's clock`)
  return events
}
