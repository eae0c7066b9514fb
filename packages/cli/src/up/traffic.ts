import { credentials as grpcCredentials, Metadata, status, type ChannelCredentials } from '@grpc/grpc-js'
import { grpcDemoClient } from '@meshguard/examples'
import { WorkloadIdentity } from '@meshguard/service-kit/tls'
import { mtlsChannelCredentials } from '@meshguard/service-kit/tls/grpc'
import { request } from 'undici'
import type { DemoClient, DemoFile, DemoService } from './demo-file.js'

/** One call of the workload and how it came out. */
export interface CallOutcome {
  flow: string
  expected: 'allowed' | 'denied'
  outcome: 'allowed' | 'denied'
  /** `200`, or the refusal: `401 invalid_token`, `403 insufficient_scope`, `UNAUTHENTICATED`… */
  reason: string
}

export interface TrafficOptions {
  seconds: number
  /** Called after each round with the time elapsed, for a progress bar. */
  onProgress?: ((elapsedMs: number, calls: number) => void) | undefined
}

/**
 * A mixed workload through every flow of the running demo, including calls that must be refused:
 * every service's example through the gateway with a JWT and with an opaque token, a call without
 * a token, one with a token lacking the route's scope, one with a revoked token, and gRPC calls
 * with and without a token.
 */
export async function driveTraffic(demo: DemoFile, options: TrafficOptions): Promise<CallOutcome[]> {
  const outcomes: CallOutcome[] = []
  const jwtClient = edgeClient(demo, 'jwt')
  const referenceClient = edgeClient(demo, 'reference')
  const tokens = new Map<string, string>()
  const tokenFor = async (client: DemoClient, scope = client.scope): Promise<string> => {
    const key = `${client.client_id} ${scope}`
    const cached = tokens.get(key)
    if (cached !== undefined) return cached
    const token = await clientCredentials(demo.issuer, client, scope)
    tokens.set(key, token)
    return token
  }
  // The server is checked by its SPIFFE ID; a name keeps grpc-js from sending an IP address as the TLS server name.
  const grpc = grpcDemoClient(demo.grpc.address, { credentials: await grpcChannel(demo), channelOptions: { 'grpc.ssl_target_name_override': 'grpc-demo' } })
  const started = Date.now()
  try {
    let round = 0
    while (Date.now() - started < options.seconds * 1000) {
      for (const service of demo.services) {
        // A service that accepts only a delegation chain refuses the edge client's direct call.
        const direct = service.reachedVia.length === 0 ? 'allowed' : 'denied'
        const label = direct === 'allowed' ? '' : ` (needs the chain ${service.reachedVia.join(' <- ')})`
        outcomes.push(await viaGateway(demo, service, `jwt${label}`, direct, await tokenFor(jwtClient)))
        outcomes.push(await viaGateway(demo, service, `opaque token${label}`, direct, await tokenFor(referenceClient)))
        outcomes.push(await viaGateway(demo, service, 'no token', 'denied', undefined))
        const other = demo.services.find((candidate) => candidate.name !== service.name)
        if (other !== undefined) outcomes.push(await viaGateway(demo, service, 'token for another service', 'denied', await tokenFor(jwtClient, other.scopes[0])))
        // A token for the service, with one of its scopes but not the one its example needs.
        const partial = service.scopes.length > 1 ? service.scopes.at(-1) : undefined
        if (partial !== undefined) outcomes.push(await viaGateway(demo, service, 'missing scope', 'denied', await tokenFor(jwtClient, partial)))
      }
      if (round % 5 === 0) {
        const revoked = await clientCredentials(demo.issuer, jwtClient, jwtClient.scope)
        await revoke(demo.issuer, jwtClient, revoked)
        await new Promise((resolve) => setTimeout(resolve, 1200))
        outcomes.push(await viaGateway(demo, demo.services[0]!, 'revoked token', 'denied', revoked))
      }
      outcomes.push(await grpcReading(grpc, 'gRPC with a token', 'allowed', await tokenFor(jwtClient)))
      outcomes.push(await grpcReading(grpc, 'gRPC without a token', 'denied', undefined))
      round += 1
      options.onProgress?.(Date.now() - started, outcomes.length)
    }
  } finally {
    grpc.close()
  }
  return outcomes
}

/** Allowed/denied counts by flow and reason, and whether every call came out as expected. */
export function summarise(outcomes: readonly CallOutcome[]): { lines: string[]; unexpected: number } {
  const counts = new Map<string, number>()
  let unexpected = 0
  for (const { flow, expected, outcome, reason } of outcomes) {
    const key = `${flow}\t${outcome}\t${reason}${outcome === expected ? '' : '\tUNEXPECTED'}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
    if (outcome !== expected) unexpected += 1
  }
  const rows = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => [...key.split('\t'), String(count)])
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length), 8))
  const lines = rows.map((row) => `${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]!.padEnd(widths[2]!)}  ${row.at(-1)!.padStart(6)}${row.length === 5 ? '  UNEXPECTED' : ''}`)
  return { lines, unexpected }
}

/** A confidential client of the format that holds every scope the services require. */
function edgeClient(demo: DemoFile, format: 'jwt' | 'reference'): DemoClient {
  const needed = demo.services.flatMap((service) => service.scopes)
  const client = demo.clients.find(
    (candidate) =>
      candidate.token_format === format && candidate.client_secret !== undefined && needed.every((scope) => candidate.scope.split(' ').includes(scope)),
  )
  if (client === undefined) throw new Error(`demo.json lists no confidential client with token_format ${format} holding every edge scope`)
  return client
}

async function clientCredentials(issuer: string, client: DemoClient, scope: string): Promise<string> {
  const response = await request(`${issuer}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client) },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  })
  const body = (await response.body.json()) as { access_token?: string; error?: string; error_description?: string }
  if (body.access_token === undefined) throw new Error(`the token endpoint refused ${client.client_id}: ${body.error ?? response.statusCode} ${body.error_description ?? ''}`)
  return body.access_token
}

async function revoke(issuer: string, client: DemoClient, token: string): Promise<void> {
  const response = await request(`${issuer}/oauth2/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client) },
    body: new URLSearchParams({ token }).toString(),
  })
  await response.body.dump()
}

async function viaGateway(demo: DemoFile, service: DemoService, flow: string, expected: CallOutcome['expected'], token: string | undefined): Promise<CallOutcome> {
  const { method, path, body } = service.example
  const response = await request(`${demo.gateway}${path}`, {
    method: method as 'GET',
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const text = await response.body.text()
  const ok = response.statusCode >= 200 && response.statusCode < 300
  return { flow: `${service.name}: ${flow}`, expected, outcome: ok ? 'allowed' : 'denied', reason: ok ? String(response.statusCode) : refusal(response.statusCode, response.headers['www-authenticate'], text) }
}

function refusal(status: number, challenge: string | string[] | undefined, body: string): string {
  const fromChallenge = /error="([^"]+)"/.exec(String(challenge ?? ''))?.[1]
  let fromBody: string | undefined
  try {
    fromBody = (JSON.parse(body) as { error?: string }).error
  } catch {
    fromBody = undefined
  }
  return `${status} ${fromChallenge ?? fromBody ?? ''}`.trim()
}

function grpcReading(grpc: ReturnType<typeof grpcDemoClient>, flow: string, expected: CallOutcome['expected'], token: string | undefined): Promise<CallOutcome> {
  const metadata = new Metadata()
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`)
  return new Promise((resolve) => {
    grpc.sensors.GetReading({ sensor_id: 'greenhouse-temperature' }, metadata, { deadline: Date.now() + 5000 }, (err) => {
      resolve({ flow, expected, outcome: err ? 'denied' : 'allowed', reason: err ? status[err.code] : 'OK' })
    })
  })
}

async function grpcChannel(demo: DemoFile): Promise<ChannelCredentials> {
  if (demo.tier === 'low') return grpcCredentials.createInsecure()
  const identity = await WorkloadIdentity.fromFiles({ certificateChain: demo.grpc.clientCert, privateKey: demo.grpc.clientKey, trustBundle: demo.caBundle })
  return mtlsChannelCredentials(identity, { expect: [demo.grpc.spiffeId], tier: demo.tier })
}

function basic(client: DemoClient): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret ?? '')}`).toString('base64')}`
}
