import type { Server as HttpServer } from 'node:http'
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2'
import type { AddressInfo, Socket } from 'node:net'
import type { Verifier } from '@meshguard/service-kit'
import type { WorkloadIdentity } from '@meshguard/service-kit/tls'
import { pino, type Logger } from 'pino'
import { Registry } from 'prom-client'
import type { TokenResolverFactory } from './auth/token-resolver.js'
import { configWarnings } from './config/load-config.js'
import type { GatewayConfig } from './config/schema.js'
import { createEdgeServer } from './edge-server.js'
import { GatewayError } from './errors.js'
import { GatewayState, type StateDeps } from './gateway-state.js'
import { GatewayMetrics } from './observability/gateway-metrics.js'
import { Exchange, type EdgeRequest, type EdgeResponse, type GatewayContext } from './proxy/exchange.js'
import { handleRequest } from './proxy/handle-request.js'
import { PhantomCache } from './phantom/phantom-cache.js'
import { MemoryRateLimitStore } from './rate-limit/memory-rate-limit-store.js'
import type { RateLimitStore } from './rate-limit/rate-limit-store.js'
import { RedisSharedState } from './redis/redis-shared-state.js'

/** What the gateway is given rather than makes; each has a default. */
export interface GatewayDeps {
  /** Default: pino at `log.level`, to stdout. */
  logger?: Logger
  /** The gateway's workload certificate, for upstreams reached over mutual TLS. Required only then. */
  identity?: WorkloadIdentity
  /**
   * Where rate-limit buckets live. Default: with `redis`, Redis (shared by every instance, this
   * instance's memory while Redis is away); without, a {@link MemoryRateLimitStore} (per instance).
   */
  rateLimitStore?: RateLimitStore
  /**
   * How presented tokens become verified JWTs. Default: JWTs verified in place, and with
   * `introspection` configured, opaque tokens exchanged for their JWT (`phantomTokenResolver`).
   */
  tokenResolver?: TokenResolverFactory
  /** Where metrics are registered. Default: a registry of the gateway's own. */
  registry?: Registry
  /** Milliseconds since the epoch, for token lifetimes, rate limits and health cooldowns. Default `Date.now`. */
  now?: () => number
}

/** A gateway built from a configuration, not yet listening. */
export interface Gateway {
  /**
   * Binds `listen.host:port`, then waits for a first attempt at the issuer's keys and, with
   * `redis`, at Redis (both retried in the background if they fail). Resolves to the base URL.
   */
  listen(): Promise<string>
  /**
   * Swaps in a new configuration at once: requests in flight finish under the old one, new ones
   * take the new one. Unchanged instances keep their connections and health record, an
   * unchanged verifier its caches. Refused, leaving the old configuration in force, when
   * `listen` differs or the new issuer's keys cannot be fetched.
   */
  reload(config: GatewayConfig): Promise<void>
  /** Stops accepting connections, lets requests in flight finish (at most `drainTimeoutMs`), then cuts what remains and releases everything. Idempotent. */
  close(): Promise<void>
  /** The issuer's keys are loaded (or no route reads tokens) and the gateway is not closing: what `/-/readyz` answers. */
  readonly ready: boolean
  /** The base URL once listening. */
  readonly url: string | undefined
  readonly config: GatewayConfig
  readonly registry: Registry
}

/**
 * Builds the gateway: routes, upstream pools, the token verifier, metrics. Nothing listens and
 * nothing is fetched until {@link Gateway.listen}.
 *
 * @throws GatewayError `ERR_CONFIG_INVALID` when an upstream needs mutual TLS and no identity is given
 * @example
 * const gateway = createGateway(loadConfig({ file: 'gateway.yaml' }), { logger })
 * const url = await gateway.listen()
 * process.on('SIGTERM', () => void gateway.close())
 */
export function createGateway(config: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  return new EdgeGateway(config, deps)
}

class EdgeGateway implements Gateway, GatewayContext {
  readonly logger: Logger
  readonly registry: Registry
  readonly metrics: GatewayMetrics
  readonly rateLimits: RateLimitStore
  readonly scheme: 'http' | 'https'
  readonly #stateDeps: StateDeps
  readonly #ownsRateLimits: boolean
  readonly #phantomCache: PhantomCache
  /** With `redis`: rate limits, the phantom-token cache and pushed revocations, shared by every instance. */
  readonly #shared: RedisSharedState | undefined
  readonly #keysLoaded = new WeakSet<Verifier>()
  readonly #sockets = new Set<Socket>()
  readonly #sessions = new Set<ServerHttp2Session>()
  #state: GatewayState
  #server: HttpServer | Http2SecureServer | undefined
  #url: string | undefined
  #inFlight = 0
  #closing = false
  #closed: Promise<void> | undefined
  #drained: (() => void) | undefined
  #keysTimer: NodeJS.Timeout | undefined
  #reloads: Promise<void> = Promise.resolve()

  constructor(config: GatewayConfig, deps: GatewayDeps) {
    this.logger = deps.logger ?? pino({ level: config.log.level })
    this.registry = deps.registry ?? new Registry()
    this.metrics = new GatewayMetrics(this.registry, () => this.#inFlight)
    const now = deps.now ?? Date.now
    this.#phantomCache = new PhantomCache(config.introspection?.cacheSize ?? 10_000, now)
    this.#shared =
      config.redis &&
      new RedisSharedState(config.redis, {
        logger: this.logger,
        now,
        onRevoked: (jti, exp) => {
          this.#state.verifier?.revoke(jti, exp)
          this.#phantomCache.evict(jti)
        },
        onRateLimitFallback: () => {
          this.metrics.rateLimitFallback()
        },
      })
    if (this.#shared !== undefined) {
      const shared = this.#shared
      this.metrics.watchRedis(() => shared.connected)
    }
    this.#ownsRateLimits = deps.rateLimitStore === undefined
    this.rateLimits = deps.rateLimitStore ?? this.#shared?.rateLimits ?? new MemoryRateLimitStore({ now })
    this.scheme = config.listen.tls === undefined ? 'http' : 'https'
    this.#stateDeps = {
      logger: this.logger,
      identity: deps.identity,
      now,
      tokenResolver: deps.tokenResolver,
      phantomCache: this.#phantomCache,
      sharedPhantoms: this.#shared?.phantoms,
      metrics: this.metrics,
    }
    this.#state = new GatewayState(config, undefined, this.#stateDeps)
    for (const warning of configWarnings(config)) this.logger.warn(warning)
  }

  get config(): GatewayConfig {
    return this.#state.config
  }

  get closing(): boolean {
    return this.#closing
  }

  get ready(): boolean {
    const { verifier } = this.#state
    return !this.#closing && (verifier === undefined || this.#keysLoaded.has(verifier))
  }

  get url(): string | undefined {
    return this.#url
  }

  async listen(): Promise<string> {
    if (this.#server !== undefined || this.#closing) throw new Error('the gateway is already listening or closed')
    const { listen } = this.#state.config
    const server = createEdgeServer(
      listen,
      (req, res, expectsContinue) => {
        this.#onRequest(req, res, expectsContinue)
      },
      (session) => {
        this.#sessions.add(session)
        session.once('close', () => this.#sessions.delete(session))
      },
    )
    this.#server = server
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(listen.port, listen.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const { port } = server.address() as AddressInfo
    this.#url = `${this.scheme}://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`
    const { verifier } = this.#state
    await Promise.all([this.#shared?.connect(), verifier === undefined ? undefined : this.#loadKeys(verifier, 1000)])
    this.logger.info({ url: this.#url, routes: this.#state.config.routes.length }, 'gateway listening')
    return this.#url
  }

  reload(config: GatewayConfig): Promise<void> {
    const run = this.#reloads.then(() => this.#reload(config))
    this.#reloads = run.catch(() => undefined)
    return run
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutdown()
    return this.#closed
  }

  async #reload(config: GatewayConfig): Promise<void> {
    if (this.#closing) throw new GatewayError('ERR_RELOAD_REFUSED', 'the gateway is closing')
    const previous = this.#state
    if (JSON.stringify(config.listen) !== JSON.stringify(previous.config.listen)) {
      throw new GatewayError('ERR_RELOAD_REFUSED', 'listen settings change only with a restart')
    }
    if (JSON.stringify(config.redis) !== JSON.stringify(previous.config.redis)) {
      throw new GatewayError('ERR_RELOAD_REFUSED', 'redis settings change only with a restart')
    }
    const next = new GatewayState(config, previous, this.#stateDeps)
    const { verifier } = next
    if (verifier !== undefined && verifier !== previous.verifier) {
      try {
        await verifier.start()
        this.#keysLoaded.add(verifier)
      } catch (err) {
        await next.retire(previous)
        throw new GatewayError('ERR_RELOAD_REFUSED', `the issuer's keys cannot be fetched for the new configuration: ${(err as Error).message}`, { cause: err })
      }
    }
    if (verifier !== undefined && verifier !== previous.verifier) {
      // Everything heard over Redis so far, in the same turn as the swap: nothing falls between.
      this.#shared?.revocations.replay((jti, exp) => {
        verifier.revoke(jti, exp)
      })
    }
    this.#state = next
    this.#phantomCache.maxEntries = config.introspection?.cacheSize ?? this.#phantomCache.maxEntries
    for (const warning of configWarnings(config)) this.logger.warn(warning)
    this.logger.info({ routes: config.routes.length }, 'gateway configuration reloaded')
    previous.retire(next).catch((err: unknown) => {
      this.logger.warn({ err }, 'closing the previous configuration')
    })
  }

  /** Fetches the issuer's keys; on failure, tries again in the background, backing off to 30 s, while the verifier is in use. */
  #loadKeys(verifier: Verifier, delayMs: number): Promise<void> {
    return verifier.start().then(
      () => {
        this.#keysLoaded.add(verifier)
      },
      (err: unknown) => {
        this.logger.warn({ err, retryInMs: delayMs }, "the issuer's keys cannot be fetched: requests with tokens get 503 until they are")
        if (this.#closing || this.#state.verifier !== verifier) return
        this.#keysTimer = setTimeout(() => {
          if (!this.#closing && this.#state.verifier === verifier) void this.#loadKeys(verifier, Math.min(delayMs * 2, 30_000))
        }, delayMs)
        this.#keysTimer.unref()
      },
    )
  }

  #onRequest(req: EdgeRequest, res: EdgeResponse, expectsContinue: boolean): void {
    const exchange = new Exchange(this, this.#state, req, res)
    exchange.expectsContinue = expectsContinue
    this.#inFlight += 1
    res.once('close', () => {
      this.#finish(exchange)
    })
    handleRequest(exchange)
  }

  /** After the response (or the client's going away): the upstream call stopped if need be, metrics, the access log line. */
  #finish(exchange: Exchange): void {
    this.#inFlight -= 1
    const { res, route } = exchange
    if (!res.writableEnded) {
      exchange.clientGone = true
      exchange.upstream?.abort()
    }
    if (!exchange.internal) {
      // 499: the client closed before any response (nginx's convention).
      const status = res.headersSent ? res.statusCode : 499
      const ms = performance.now() - exchange.startedAt
      this.metrics.request(route?.name ?? '-', status, ms / 1000)
      if (exchange.state.config.log.accessLog) {
        this.logger.info(
          {
            requestId: exchange.requestId,
            method: exchange.method,
            path: exchange.path,
            route: route?.name,
            status,
            ms: Math.round(ms * 100) / 100,
            clientId: exchange.clientId,
            upstream: exchange.instance?.origin,
            traceId: exchange.traceId,
            error: exchange.error,
            aborted: exchange.clientGone || undefined,
          },
          'request',
        )
      }
    }
    if (this.#inFlight === 0) this.#drained?.()
  }

  async #shutdown(): Promise<void> {
    this.#closing = true
    clearTimeout(this.#keysTimer)
    const server = this.#server
    if (server !== undefined) {
      const closed = new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
      })
      if ('closeIdleConnections' in server) server.closeIdleConnections()
      // HTTP/2: GOAWAY, so clients open no new streams; those in flight go on.
      for (const session of this.#sessions) session.close()
      await this.#drain(this.#state.config.drainTimeoutMs)
      for (const socket of this.#sockets) socket.destroy()
      await closed
    }
    await this.#state.retire(undefined)
    if (this.#ownsRateLimits) await this.rateLimits.close?.()
    await this.#shared?.close()
    this.logger.info('gateway closed')
  }

  #drain(timeoutMs: number): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.#drained = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }
}
