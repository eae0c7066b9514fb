import { createVerifier, type Verifier } from '@meshguard/service-kit'
import type { WorkloadIdentity } from '@meshguard/service-kit/tls'
import type { Logger } from 'pino'
import { phantomTokenResolver } from './auth/phantom-token-resolver.js'
import { jwtTokenResolver, type TokenResolver, type TokenResolverFactory } from './auth/token-resolver.js'
import type { GatewayConfig, IntrospectionConfig, RouteConfig } from './config/schema.js'
import { compileCors } from './cors/compile-cors.js'
import { GatewayError } from './errors.js'
import type { GatewayMetrics } from './observability/gateway-metrics.js'
import { IntrospectionClient } from './phantom/introspection-client.js'
import type { PhantomCache } from './phantom/phantom-cache.js'
import type { SharedPhantomCache } from './phantom/shared-phantom-cache.js'
import type { CompiledRoute } from './routing/compiled-route.js'
import { RouteTable } from './routing/route-table.js'
import { createDispatcher, dispatcherSettings } from './upstream/create-dispatcher.js'
import { Upstream } from './upstream/upstream.js'
import { UpstreamInstance } from './upstream/upstream-instance.js'

/** What building a state needs from the gateway around it. */
export interface StateDeps {
  logger: Logger
  identity: WorkloadIdentity | undefined
  now: () => number
  /** Replaces how tokens are resolved; by default JWTs are verified, and opaque tokens exchanged when `introspection` is configured. */
  tokenResolver: TokenResolverFactory | undefined
  /** This instance's phantom-token cache, kept across configurations. */
  phantomCache: PhantomCache
  /** The phantom-token cache shared through Redis, when configured. */
  sharedPhantoms: SharedPhantomCache | undefined
  metrics: GatewayMetrics
}

/**
 * One generation of the configuration, compiled: the route table, the upstreams with their
 * instances' pools, the verifier, the introspection client. A request keeps the state it arrived
 * under; a reload builds the next state, reusing what did not change (instances with their
 * connections and health record, the verifier with its key and token caches, the introspection
 * client with its connections), and swaps it in at once.
 */
export class GatewayState {
  readonly routes: RouteTable
  readonly upstreams: ReadonlyMap<string, Upstream>
  /** Every instance by its settings key. */
  readonly instances: ReadonlyMap<string, UpstreamInstance>
  /** `undefined` when every route is public. */
  readonly verifier: Verifier | undefined
  readonly resolver: TokenResolver | undefined
  /** The phantom-token exchange; `undefined` without `introspection` or when every route is public. */
  readonly introspection: IntrospectionClient | undefined
  readonly audiences: ReadonlySet<string>

  constructor(
    readonly config: GatewayConfig,
    previous: GatewayState | undefined,
    deps: StateDeps,
  ) {
    for (const [name, upstream] of Object.entries(config.upstreams)) {
      if (upstream.tls?.mode === 'mtls' && deps.identity === undefined) {
        throw new GatewayError('ERR_CONFIG_INVALID', `upstream ${name} is reached over mutual TLS: the gateway needs a workload identity (deps.identity)`)
      }
    }
    const instances = new Map<string, UpstreamInstance>()
    const upstreams = buildUpstreams(config, previous, deps, instances)
    this.instances = instances
    this.upstreams = upstreams
    this.routes = new RouteTable(config.routes.map((route) => compileRoute(route, upstreams.get(route.upstream)!)))
    this.audiences = new Set(config.routes.flatMap((route) => (route.policy === 'public' ? [] : [route.audience!])))
    if (this.audiences.size === 0) this.verifier = undefined
    else if (previous?.verifier !== undefined && sameVerifier(previous, this)) this.verifier = previous.verifier
    else {
      this.verifier = createVerifier({
        issuer: config.issuer,
        audience: [...this.audiences],
        jwksUri: config.jwksUri,
        ...(config.revocationEventsUri !== undefined && { revocationEventsUri: config.revocationEventsUri }),
        clockToleranceSec: config.tokens.clockToleranceSec,
        cacheSize: config.tokens.cacheSize,
        jwks: {
          refreshIntervalMs: config.tokens.jwksRefreshIntervalMs,
          maxStaleMs: config.tokens.jwksMaxStaleMs,
          unknownKidCooldownMs: config.tokens.jwksUnknownKidCooldownMs,
        },
        now: deps.now,
        onError: (err) => {
          deps.logger.warn({ err }, 'token verifier')
        },
      })
    }
    const { verifier } = this
    if (verifier !== undefined && verifier !== previous?.verifier) {
      verifier.onInvalidate((revokedJti) => {
        if (revokedJti !== undefined) deps.phantomCache.evict(revokedJti)
      })
    }
    this.introspection =
      verifier === undefined || config.introspection === undefined ? undefined : reuseIntrospection(previous, config.introspection)
    this.resolver = verifier === undefined ? undefined : this.#resolver(verifier, deps)
  }

  #resolver(verifier: Verifier, deps: StateDeps): TokenResolver {
    if (deps.tokenResolver !== undefined) return deps.tokenResolver(verifier)
    if (this.introspection === undefined) return jwtTokenResolver(verifier)
    return phantomTokenResolver({
      introspection: this.introspection,
      cache: deps.phantomCache,
      shared: deps.sharedPhantoms,
      maxPending: this.config.introspection!.maxPending,
      onExchange: (outcome) => {
        deps.metrics.phantomExchange(outcome)
      },
      onError: (err: unknown) => {
        deps.logger.warn({ err }, 'an exchanged token could not be written to the shared phantom-token cache')
      },
    })(verifier)
  }

  /** Closes what `next` does not carry on with. */
  async retire(next: GatewayState | undefined): Promise<void> {
    if (this.verifier !== undefined && this.verifier !== next?.verifier) this.verifier.close()
    if (this.introspection !== undefined && this.introspection !== next?.introspection) await this.introspection.close()
    const closing = [...this.instances.values()].filter((instance) => next?.instances.get(instance.key) !== instance)
    // `close` lets requests in flight on the pool finish.
    await Promise.all(closing.map((instance) => instance.dispatcher.close()))
  }
}

/** The previous state's introspection client when its settings are the same, else a new one. */
function reuseIntrospection(previous: GatewayState | undefined, config: IntrospectionConfig): IntrospectionClient {
  const kept = previous?.introspection
  return kept !== undefined && kept.settingsKey === IntrospectionClient.settingsKey(config) ? kept : new IntrospectionClient(config)
}

/**
 * The upstreams with their instances, filling `instances` by settings key: an instance whose
 * settings did not change is taken over from `previous`. Pools opened here are closed again if
 * a later one cannot be (an unreadable CA file).
 */
function buildUpstreams(config: GatewayConfig, previous: GatewayState | undefined, deps: StateDeps, instances: Map<string, UpstreamInstance>): Map<string, Upstream> {
  const upstreams = new Map<string, Upstream>()
  const opened: UpstreamInstance[] = []
  try {
    for (const [name, upstream] of Object.entries(config.upstreams)) {
      const members = upstream.instances.map((href) => {
        const url = new URL(href)
        const settings = dispatcherSettings(url, upstream)
        const key = JSON.stringify([href, settings])
        let instance = instances.get(key) ?? previous?.instances.get(key)
        if (instance === undefined) {
          instance = new UpstreamInstance(key, url.origin, url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''), createDispatcher(settings, deps.identity))
          opened.push(instance)
        }
        instances.set(key, instance)
        return instance
      })
      upstreams.set(name, new Upstream(name, members, upstream.passiveHealth, deps.now))
    }
  } catch (err) {
    for (const instance of opened) void instance.dispatcher.close()
    throw err
  }
  return upstreams
}

/** The verifier can stay when it checks the same issuer the same way, and already accepts every audience now routed. */
function sameVerifier(previous: GatewayState, next: GatewayState): boolean {
  const settings = (state: GatewayState) => JSON.stringify([state.config.issuer, state.config.jwksUri, state.config.revocationEventsUri, state.config.tokens])
  return settings(previous) === settings(next) && [...next.audiences].every((audience) => previous.audiences.has(audience))
}

function compileRoute(route: RouteConfig, upstream: Upstream): CompiledRoute {
  const { policy } = route
  return {
    name: route.name,
    pathPrefix: route.match.pathPrefix,
    host: route.match.host,
    upstream,
    stripPrefix: route.stripPrefix,
    public: policy === 'public',
    audience: route.audience ?? '',
    scopes: typeof policy === 'object' ? policy.scopes : [],
    timeoutMs: route.timeoutMs,
    retries: route.retries,
    bodyLimitBytes: route.bodyLimitBytes,
    cors: route.cors === undefined ? undefined : compileCors(route.cors),
    perClient: route.rateLimit?.perClient,
    perIp: route.rateLimit?.perIp,
  }
}
