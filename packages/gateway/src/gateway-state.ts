import { createVerifier, type Verifier } from '@meshguard/service-kit'
import type { WorkloadIdentity } from '@meshguard/service-kit/tls'
import type { Logger } from 'pino'
import type { TokenResolver, TokenResolverFactory } from './auth/token-resolver.js'
import type { GatewayConfig, RouteConfig } from './config/schema.js'
import { compileCors } from './cors/compile-cors.js'
import { GatewayError } from './errors.js'
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
  tokenResolver: TokenResolverFactory
}

/**
 * One generation of the configuration, compiled: the route table, the upstreams with their
 * instances' pools, the verifier. A request keeps the state it arrived under; a reload builds
 * the next state, reusing what did not change (instances with their connections and health
 * record, the verifier with its key and token caches), and swaps it in at once.
 */
export class GatewayState {
  readonly routes: RouteTable
  readonly upstreams: ReadonlyMap<string, Upstream>
  /** Every instance by its settings key. */
  readonly instances: ReadonlyMap<string, UpstreamInstance>
  /** `undefined` when every route is public. */
  readonly verifier: Verifier | undefined
  readonly resolver: TokenResolver | undefined
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
    this.resolver = this.verifier === undefined ? undefined : deps.tokenResolver(this.verifier)
  }

  /** Closes what `next` does not carry on with. */
  async retire(next: GatewayState | undefined): Promise<void> {
    if (this.verifier !== undefined && this.verifier !== next?.verifier) this.verifier.close()
    const closing = [...this.instances.values()].filter((instance) => next?.instances.get(instance.key) !== instance)
    // `close` lets requests in flight on the pool finish.
    await Promise.all(closing.map((instance) => instance.dispatcher.close()))
  }
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
