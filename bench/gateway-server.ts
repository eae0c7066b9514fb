/**
 * One Meshguard gateway for the gateway benchmark, in front of the benchmark's upstream, with
 * one route, `/orders`, in the configuration named by its first argument:
 *
 * - `noauth`: the route is `public`: no token is read, the client's `Authorization` goes on as it came;
 * - `jwt`: the route needs a JWT for its audience with its scope, checked by the service kit's
 *   verifier with its verified-token cache (the gateway's defaults), the issuer's keys fetched
 *   from its JWKS;
 * - `opaque`: the same route, and `introspection` configured: an opaque token is exchanged once
 *   at the issuer's introspection endpoint for the JWT it stands for (the phantom-token cache
 *   keeps the exchange), which is then checked as in `jwt` and forwarded upstream.
 *
 * The second argument is a JSON {@link GatewayBenchSetup}. Started by gateway.js, which it tells
 * where it listens; the parent counts the requests at the upstream, so this process counts none.
 */
import { createGateway, parseConfig, type GatewayConfigInput } from '@meshguard/gateway'
import { destination, pino } from 'pino'
import { serveBench } from './server-process.js'

const modes = ['noauth', 'jwt', 'opaque'] as const
/** The configurations, by name. */
export type GatewayMode = (typeof modes)[number]

/** What every gateway is told. */
export interface GatewayBenchSetup {
  /** The issuer of accepted tokens; its JWKS is at `<issuer>/.well-known/jwks.json`. */
  issuer: string
  /** The upstream's origin. */
  upstream: string
  audience: string
  scope: string
  /** The gateway's client at the issuer, for the phantom-token exchange. */
  client: { id: string; secret: string }
  /** Where the access log goes, one line per request; unset, none is written. */
  accessLogFile?: string | undefined
}

/** What a gateway reports once it listens. */
export interface GatewayTarget {
  /** The route, e.g. `http://127.0.0.1:41234/orders/42`. */
  url: string
}

const [mode = '', json] = process.argv.slice(2)
if (!modes.includes(mode as GatewayMode) || json === undefined) {
  throw new TypeError(`usage: gateway-server.js <${modes.join('|')}> <setup JSON>`)
}
const setup = JSON.parse(json) as GatewayBenchSetup
const policy = mode === 'noauth' ? { policy: 'public' as const } : { policy: { scopes: [setup.scope] }, audience: setup.audience }
const config = parseConfig({
  listen: { host: '127.0.0.1', port: 0 },
  issuer: setup.issuer,
  upstreams: { orders: { instances: [setup.upstream] } },
  ...(mode === 'opaque' && { introspection: { clientId: setup.client.id, clientSecret: setup.client.secret } }),
  routes: [{ name: 'orders', match: { pathPrefix: '/orders' }, upstream: 'orders', ...policy }],
  log: { level: setup.accessLogFile === undefined ? 'silent' : 'info', accessLog: setup.accessLogFile !== undefined },
  drainTimeoutMs: 1000,
} satisfies GatewayConfigInput)
const logger = setup.accessLogFile === undefined ? pino({ level: 'silent' }) : pino({ level: 'info' }, destination({ dest: setup.accessLogFile, sync: false }))
const gateway = createGateway(config, { logger })
const url = await gateway.listen()
if (!gateway.ready) throw new Error(`the gateway is not ready: are the issuer's keys at ${config.jwksUri}?`)
serveBench<GatewayTarget>({ url: `${url}/orders/42` }, () => gateway.close())
