import { Server, type ServerCredentials } from '@grpc/grpc-js'
import { pino, type Logger } from 'pino'
import { createVerifier } from '@meshguard/service-kit'
import { GrpcMethods, meshguardInterceptor } from '@meshguard/service-kit/grpc'
import { createMtlsAgent, type SpiffeIdAllowList } from '@meshguard/service-kit/tls'
import { CallReporter } from '../runtime/call-reporter.js'
import type { RunningService, ServiceRuntimeConfig } from '../runtime/service-config.js'
import { assertTierProfile } from '../runtime/tier-profile.js'
import { articleService } from './article-service.js'
import { grpcDemoPolicy } from './grpc-demo-policy.js'
import { loadDemoProtos } from './load-demo-protos.js'
import { orderService } from './order-service.js'
import { reportGrpcCalls } from './report-grpc-calls.js'
import { sensorService } from './sensor-service.js'
import { tierServerCredentials } from './tier-server-credentials.js'
import { closeAll, hostPort, workloadIdentity } from '../runtime/service-lifecycle.js'

export interface GrpcServiceOptions {
  /** High tier: the workloads that may call, by SPIFFE ID, instead of the configuration's `allowedCallers`. */
  allowedCallers?: SpiffeIdAllowList | undefined
  /** Milliseconds between readings of a sensor feed that asks for no interval; default 1,000. */
  feedIntervalMs?: number | undefined
  /** How long closing waits for unary calls in flight before cutting them off; default 5,000 ms. */
  shutdownGraceMs?: number | undefined
  /** Default: pino at `info`, named after the service. */
  logger?: Logger | undefined
}

/**
 * Starts the demo's gRPC services, `SensorService`, `ArticleService` and `OrderService`
 * (`proto/`), in one server on the service kit, as strict as its tier (`assertTierProfile`):
 * every call's bearer token verified locally against the issuer's keys and revocation events
 * (a stream is cut with `UNAUTHENTICATED` when its token is revoked), each method's scopes from
 * {@link grpcDemoPolicy}, and the tier's transport ({@link tierServerCredentials}: plaintext,
 * TLS, or mutual TLS admitting only `allowedCallers`). Calls allowed and refused are reported to
 * `auditUri` when set. Resolves once the server listens; `close()` ends open streams with
 * `UNAVAILABLE` and stops.
 *
 * @throws TierProfileError when the configuration is weaker than its tier; TypeError for bad
 *   options or a method of the protos without a policy; Error when the certificate names another
 *   SPIFFE ID or the issuer's keys cannot be fetched.
 * @example
 * const grpc = await startGrpcService(config)
 * grpc.address // '127.0.0.1:4040'
 * await grpc.close()
 */
export async function startGrpcService(config: ServiceRuntimeConfig, options: GrpcServiceOptions = {}): Promise<RunningService> {
  assertTierProfile(config)
  const { feedIntervalMs, shutdownGraceMs = 5_000, logger = pino({ name: config.name }) } = options
  if (!Number.isInteger(shutdownGraceMs) || shutdownGraceMs < 0) throw new TypeError('shutdownGraceMs must be a non-negative integer')
  const protos = loadDemoProtos()
  const methods = new GrpcMethods(grpcDemoPolicy)
  methods.assertCovers(protos.SensorService.service, protos.ArticleService.service, protos.OrderService.service)
  const sensors = sensorService({ feedIntervalMs })
  const orders = orderService()
  const cleanup: Array<() => unknown> = []

  try {
    const identity = config.tier === 'low' ? undefined : await workloadIdentity(config)
    const credentials = tierServerCredentials(config.tier, { identity, allowedCallers: options.allowedCallers ?? config.allowedCallers, log: logger })
    if (config.tier === 'low') logger.warn('low tier: gRPC in plaintext, bearer tokens readable on the wire')

    const verifier = createVerifier({
      issuer: config.issuer,
      audience: config.name,
      jwksUri: config.jwksUri,
      revocationEventsUri: config.revocationEventsUri,
      onError: (err) => {
        logger.warn({ err: err.message }, 'token verification: the issuer could not be reached')
      },
    })
    cleanup.push(() => {
      verifier.close()
    })
    await verifier.start()

    const dispatcher =
      identity === undefined || config.authServerSpiffeId === undefined
        ? undefined
        : createMtlsAgent(identity, { expect: [config.authServerSpiffeId], tier: config.tier, log: logger })
    if (dispatcher !== undefined) cleanup.push(() => dispatcher.close())
    const reporter = new CallReporter({ service: config.name, auditUri: config.auditUri, clientSecret: config.clientSecret, dispatcher, log: logger })
    cleanup.push(() => reporter.close())
    const reports = reportGrpcCalls(config.name, reporter)

    const server = new Server({
      interceptors: [
        meshguardInterceptor({
          methods,
          verifier,
          onRefusal: (path, err) => {
            logger.debug({ method: path, code: err.code }, `refused: ${err.message}`)
            reports.onRefusal(path, err)
          },
          onError: (err) => {
            logger.error({ err }, 'authorization failed unexpectedly')
          },
        }),
        reports.interceptor,
      ],
    })
    server.addService(protos.SensorService.service, sensors.handlers)
    server.addService(protos.ArticleService.service, articleService())
    server.addService(protos.OrderService.service, orders.handlers)
    cleanup.push(() => {
      sensors.close()
      orders.close()
      return shutdown(server, shutdownGraceMs)
    })
    const port = await bind(server, `${config.host}:${config.port}`, credentials)

    let closing: Promise<void> | undefined
    return {
      name: config.name,
      address: hostPort(config.host, port),
      close: () => (closing ??= closeAll(cleanup)),
    }
  } catch (err) {
    await closeAll(cleanup)
    throw err
  }
}


function bind(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => {
      if (err) reject(err)
      else resolve(port)
    })
  })
}

/** Lets calls in flight finish for up to `graceMs`, then cuts them off. */
function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown()
      resolve()
    }, graceMs)
    server.tryShutdown(() => {
      clearTimeout(force)
      resolve()
    })
  })
}

