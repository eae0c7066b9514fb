import { createServer } from 'node:http'
import { isIP, type AddressInfo } from 'node:net'
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import { pino, type Logger } from 'pino'
import { request } from 'undici'
import type { OutboundClient, RequestAuth } from '@meshguard/service-kit'
import type { HttpServicePlan } from '../mesh-plan.js'
import type { PeerEndpoint, RunningService, ServiceRuntimeConfig } from '../runtime/service-config.js'
import { Peers } from './peers.js'
import { httpServiceDefinitions } from './services.js'
import { hostPort } from '../runtime/service-lifecycle.js'

/** Where an unsecured service listens and where its peers are: no issuer, no credentials, no certificates. */
export interface UnsecuredHttpServiceConfig extends Pick<ServiceRuntimeConfig, 'name' | 'host' | 'port'> {
  /** Plain `http://` URLs on loopback. */
  peers: Readonly<Record<string, Pick<PeerEndpoint, 'url'>>>
}

export interface UnsecuredHttpServiceOptions {
  /** Must be `true`: the caller's statement that this is a benchmark's baseline, which authenticates nobody. */
  benchmarkOnly: true
  /** Default: pino at `info`, named after the service. */
  logger?: Logger | undefined
}

/** What every request of an unsecured service is let through as: nobody, by nothing. */
const NOBODY: RequestAuth = Object.freeze({
  operation: Object.freeze({ path: '', method: '', operationId: undefined, public: true, alternatives: [], chain: undefined }),
  caller: undefined,
  // The handlers hand the caller's token to their peer calls, which this variant sends without one.
  callerToken: '',
  scopeToken: undefined,
  grantedBy: 'public',
})

/**
 * For benchmarks only: the baseline the security tiers are measured against; `meshguard up` never
 * uses it. Starts one demo HTTP service with security switched off: the same Fastify app, route
 * handlers and peer calls as `startHttpService`, over plain HTTP on loopback, with no token
 * verification (every request reaches its handler as `grantedBy: 'public'` with no caller), no
 * tokens on the calls to its peers (neither `Authorization` nor `X-Scope-Token`; undici's global
 * dispatcher, as on the low tier), no TLS and no call reports.
 *
 * @throws TypeError unless `options.benchmarkOnly` is `true`, or when the service or a peer is not on
 *   loopback plain HTTP; Error when the plan and the configuration disagree.
 * @example
 * const d = await startUnsecuredHttpService(servicePlan('api-d'), { name: 'api-d', host: '127.0.0.1', port: 0, peers: {} }, { benchmarkOnly: true })
 */
export async function startUnsecuredHttpService(plan: HttpServicePlan, config: UnsecuredHttpServiceConfig, options: UnsecuredHttpServiceOptions): Promise<RunningService> {
  if ((options as { benchmarkOnly?: unknown } | undefined)?.benchmarkOnly !== true) {
    throw new TypeError('startUnsecuredHttpService authenticates nobody and is for benchmarks only: pass { benchmarkOnly: true }')
  }
  if (!isLoopback(config.host)) throw new TypeError(`an unsecured service listens on loopback only, not ${config.host}`)
  for (const [name, peer] of Object.entries(config.peers)) {
    const url = new URL(peer.url)
    if (url.protocol !== 'http:' || !isLoopback(url.hostname)) throw new TypeError(`an unsecured service calls plain http on loopback only: peer "${name}" is ${peer.url}`)
  }
  if (plan.name !== config.name) throw new Error(`the plan is for service "${plan.name}" and the configuration for "${config.name}"`)
  const definition = httpServiceDefinitions[plan.name]
  if (definition === undefined) throw new Error(`service "${plan.name}" is not one of the demo's HTTP services`)
  const log = options.logger ?? pino({ name: config.name })
  log.warn('security switched off: a benchmark baseline, authenticating nobody')

  const server = createServer()
  const logger: FastifyBaseLogger = log.child({}, { level: log.levelVal > 40 ? log.level : 'warn' })
  const app = Fastify({ serverFactory: (handler) => server.on('request', handler), loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) })
  app.decorateRequest('meshguard', { getter: () => NOBODY })
  definition.routes(app, new Peers(plan.peers.length === 0 ? undefined : unsecuredOutbound, config.peers))
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    await app.close()
    throw err
  }
  const { port } = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  return {
    name: config.name,
    address: `http://${hostPort(config.host, port)}`,
    close: () => (closing ??= app.close()),
  }
}

/** The outbound client's HTTP side without its tokens: the credentials the handlers name are dropped. */
const unsecuredOutbound: Pick<OutboundClient, 'request'> = {
  request(url, { method = 'GET', headers = {}, body, signal, headersTimeout, bodyTimeout }) {
    const plain: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(headers)) plain[name] = typeof value === 'string' ? value : [...value]
    return request(url, { method, headers: plain, body, signal, headersTimeout, bodyTimeout })
  },
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || (isIP(host) === 4 && host.startsWith('127.'))
}
