import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import { pino, type Logger } from 'pino'
import type { Agent } from 'undici'
import { createOutboundClient, createVerifier, OpenApiRoutes, type OutboundClientOptions } from '@meshguard/service-kit'
import { meshguardFastify } from '@meshguard/service-kit/fastify'
import type { WorkloadIdentity } from '@meshguard/service-kit/tls';
import { createMtlsAgent, mtlsServerOptions, PeerAuthorizer, rotateServerCredentials, tlsServerOptions } from '@meshguard/service-kit/tls'
import type { HttpServicePlan } from '../mesh-plan.js'
import { CallReporter } from '../runtime/call-reporter.js'
import type { RunningService, ServiceRuntimeConfig } from '../runtime/service-config.js'
import { assertTierProfile } from '../runtime/tier-profile.js'
import { allowedCall, refusedCall } from './call-events.js'
import { Peers } from './peers.js'
import { httpServiceDefinitions } from './services.js'
import { closeAll, hostPort, workloadIdentity } from '../runtime/service-lifecycle.js'

export interface StartHttpServiceOptions {
  /** Default: pino at `info`, named after the service. */
  logger?: Logger | undefined
}

/**
 * Starts one demo HTTP service on the service kit, as strict as its tier:
 *
 * - every tier verifies each token locally (issuer, audience, keys from the JWKS, revocations
 *   pushed over the authorization server's event stream, so a revoked token stops within a
 *   second) and authorises each route from the service's OpenAPI document: scopes, `X-Scope-Token`
 *   and delegation chains alike;
 * - `low`: plain HTTP inside, tokens from the plain token endpoint with a client secret. What the
 *   low tier drops is transport security (encryption, SPIFFE peer checks) and certificate-bound
 *   tokens, never verification: checking a token locally costs no network trip, which is all
 *   seed 004's low tier is there to save. Its peers are still not required to send an
 *   `X-Scope-Token` where the caller's own scopes suffice, as on every tier (seed 004's fallback);
 * - `medium`: HTTPS with the workload's certificate; calls go out checking each server's SPIFFE ID;
 * - `high`: mutual TLS, only the callers in `allowedCallers` admitted; calls go out over mutual TLS
 *   with the workload's certificate; its tokens come from the mutual-TLS token endpoint with
 *   `tls_client_auth`, bound to that certificate (RFC 8705), and bound tokens it receives are
 *   honoured only over the connection that presents their certificate.
 *
 * Every call allowed or refused is reported to `auditUri` for the console's map, when set.
 *
 * @throws TierProfileError when the configuration is weaker than its tier; Error when the plan
 *   and the configuration disagree, the certificate names another SPIFFE ID, or the issuer's keys
 *   cannot be fetched.
 * @example
 * const service = await startHttpService(servicePlan('api-a') as HttpServicePlan, config)
 * console.log(service.address) // https://127.0.0.1:7101
 * await service.close()
 */
export async function startHttpService(plan: HttpServicePlan, config: ServiceRuntimeConfig, options: StartHttpServiceOptions = {}): Promise<RunningService> {
  assertTierProfile(config)
  if (plan.name !== config.name) throw new Error(`the plan is for service "${plan.name}" and the configuration for "${config.name}"`)
  const definition = httpServiceDefinitions[plan.name]
  if (definition === undefined) throw new Error(`service "${plan.name}" is not one of the demo's HTTP services`)
  const log = options.logger ?? pino({ name: config.name })
  const cleanup: Array<() => unknown> = []

  try {
    const identity = config.tier === 'low' ? undefined : await workloadIdentity(config)
    const dispatcher = identity === undefined ? undefined : outboundAgent(identity, config, log)
    if (dispatcher !== undefined) cleanup.push(() => dispatcher.close())

    const verifier = createVerifier({
      issuer: config.issuer,
      audience: config.name,
      jwksUri: config.jwksUri,
      revocationEventsUri: config.revocationEventsUri,
      forwardedAudiences: plan.forwardedIdentityFrom,
      onError: (err) => {
        log.warn({ err: err.message }, 'token verification: the issuer could not be reached')
      },
    })
    cleanup.push(() => {
      verifier.close()
    })
    await verifier.start()

    const outbound = plan.peers.length === 0 ? undefined : createOutboundClient(outboundOptions(config, dispatcher))
    const reporter = new CallReporter({ service: config.name, auditUri: config.auditUri, clientSecret: config.clientSecret, dispatcher, log })
    cleanup.push(() => reporter.close())

    const tlsServer = identity === undefined ? undefined : createHttpsServer(config.tier === 'high' ? mtlsServerOptions(identity) : tlsServerOptions(identity))
    if (tlsServer !== undefined && identity !== undefined) {
      rotateServerCredentials(tlsServer, identity)
      if (config.tier === 'high') new PeerAuthorizer({ trustDomain: identity.trustDomain, allow: config.allowedCallers ?? [], log }).attach(tlsServer)
    }
    const server: HttpServer | HttpsServer = tlsServer ?? createHttpServer()

    // Fastify's own lines (listening, each request) stay out: run-service logs the one that matters.
    const logger: FastifyBaseLogger = log.child({}, { level: log.levelVal > 40 ? log.level : 'warn' })
    const app = Fastify({ serverFactory: (handler) => server.on('request', handler), loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) })
    cleanup.push(() => app.close())
    await app.register(meshguardFastify, {
      routes: new OpenApiRoutes(definition.openApi),
      verifier,
      onError: (err) => {
        log.error({ err }, 'authorization failed unexpectedly')
      },
      onRefused: (err, request) => {
        reporter.report(refusedCall(config.name, request, err, verifier, Date.now()))
      },
    })
    app.addHook('onResponse', (request, _reply, done) => {
      const auth = request.meshguard
      if (auth !== null && auth.grantedBy !== 'public') reporter.report(allowedCall(config.name, request, auth, Date.now()))
      done()
    })
    definition.routes(app, new Peers(outbound, config.peers))
    await app.listen({ host: config.host, port: config.port })

    const { port } = server.address() as AddressInfo
    let closing: Promise<void> | undefined
    return {
      name: config.name,
      address: `${identity === undefined ? 'http' : 'https'}://${hostPort(config.host, port)}`,
      close: () => (closing ??= closeAll(cleanup)),
    }
  } catch (err) {
    await closeAll(cleanup)
    throw err
  }
}


/** Presents the workload's certificate and accepts only the servers it calls: its peers and the authorization server. */
function outboundAgent(identity: WorkloadIdentity, config: ServiceRuntimeConfig, log: Logger): Agent | undefined {
  const expect = [...Object.values(config.peers).map((peer) => peer.spiffeId!), ...(config.authServerSpiffeId === undefined ? [] : [config.authServerSpiffeId])]
  return expect.length === 0 ? undefined : createMtlsAgent(identity, { expect, tier: config.tier, log })
}

function outboundOptions(config: ServiceRuntimeConfig, dispatcher: Agent | undefined): OutboundClientOptions {
  if (config.tier === 'high') return { tokenEndpoint: config.tokenEndpoint, clientId: config.name, clientAuthentication: 'tls_client_auth', dispatcher }
  return { tokenEndpoint: config.tokenEndpoint, clientId: config.name, clientSecret: config.clientSecret, dispatcher, insecureHttpHosts: plainHttpHosts(config) }
}

/**
 * The low tier's peers and token endpoint over plain http, which the outbound client refuses to
 * send tokens to unless named (loopback aside): the low tier is where that is the choice made.
 */
function plainHttpHosts(config: ServiceRuntimeConfig): string[] | undefined {
  if (config.tier !== 'low') return undefined
  const hosts = [config.tokenEndpoint, ...Object.values(config.peers).map((peer) => peer.url)]
    .map((uri) => new URL(uri))
    .filter((url) => url.protocol === 'http:')
    .map((url) => url.hostname)
  return [...new Set(hosts)]
}

