import { readFileSync } from 'node:fs'
import { createMtlsAgent, type WorkloadIdentity } from '@meshguard/service-kit/tls'
import { Pool, type Dispatcher } from 'undici'
import type { UpstreamConfig } from '../config/schema.js'
import { GatewayError } from '../errors.js'

/** What a connection pool for an instance is built from; equal settings mean the pool can be kept across a reload. */
export interface DispatcherSettings {
  readonly origin: string
  readonly connections: number
  readonly connectTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly tls: { mode: 'tls'; ca: string | undefined; serverName: string | undefined } | { mode: 'mtls'; expect: readonly string[]; trustDomain: string | undefined } | undefined
}

/** The settings of one instance of `upstream`, its files read. */
export function dispatcherSettings(instance: URL, upstream: UpstreamConfig): DispatcherSettings {
  const { tls } = upstream
  const common = { origin: instance.origin, connections: upstream.connections, connectTimeoutMs: upstream.connectTimeoutMs, keepAliveTimeoutMs: upstream.keepAliveTimeoutMs }
  if (instance.protocol === 'http:') return { ...common, tls: undefined }
  if (tls?.mode === 'mtls') {
    return { ...common, tls: { mode: 'mtls', expect: typeof tls.spiffeId === 'string' ? [tls.spiffeId] : tls.spiffeId, trustDomain: tls.trustDomain } }
  }
  return { ...common, tls: { mode: 'tls', ca: tls?.caFile === undefined ? undefined : readCa(tls.caFile), serverName: tls?.serverName } }
}

/**
 * A keep-alive connection pool to one instance: plain, TLS (the server checked against the CA
 * bundle, by name), or mutual TLS through the service kit's `createMtlsAgent` (the gateway's
 * workload certificate presented, the server's SPIFFE ID checked, credentials rotated in place).
 *
 * @throws GatewayError `ERR_CONFIG_INVALID` for mutual TLS without a workload identity
 */
export function createDispatcher(settings: DispatcherSettings, identity: WorkloadIdentity | undefined): Dispatcher {
  const { origin, connections, connectTimeoutMs, keepAliveTimeoutMs, tls } = settings
  const pool = { connections, keepAliveTimeout: keepAliveTimeoutMs }
  if (tls === undefined) return new Pool(origin, { ...pool, connect: { timeout: connectTimeoutMs } })
  if (tls.mode === 'tls') {
    return new Pool(origin, {
      ...pool,
      connect: { timeout: connectTimeoutMs, rejectUnauthorized: true, ...(tls.ca !== undefined && { ca: tls.ca }), ...(tls.serverName !== undefined && { servername: tls.serverName }) },
    })
  }
  if (identity === undefined) {
    throw new GatewayError('ERR_CONFIG_INVALID', `${origin} is reached over mutual TLS: the gateway needs a workload identity (deps.identity)`)
  }
  return createMtlsAgent(identity, { expect: tls.expect, trustDomain: tls.trustDomain, agent: { ...pool, connectTimeout: connectTimeoutMs } })
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new GatewayError('ERR_CONFIG_INVALID', `cannot read CA file ${file}: ${(err as Error).message}`, { cause: err })
  }
}
