import type { MeshLayout } from './mesh-layout.js'

/** What the gateway needs to know of a service it routes to. */
export interface EdgeRoute {
  name: string
  /** The path prefix at the edge, e.g. `/a`; stripped before forwarding. */
  route: string
  url: string
  spiffeId: string
}

/**
 * The gateway's configuration for the tier: every service behind its prefix, each token checked
 * for the service's audience; opaque tokens swapped for their JWT through the
 * phantom-token exchange; upstreams over plain HTTP (low) or mutual TLS checked by SPIFFE ID.
 */
export function gatewayConfig(layout: MeshLayout, routes: readonly EdgeRoute[], gatewaySecret: string): Record<string, unknown> {
  const plain = layout.tier === 'low'
  return {
    listen: { host: '127.0.0.1', port: Number(new URL(layout.gatewayUrl).port) },
    issuer: layout.issuer,
    revocationEventsUri: `${layout.issuer}/oauth2/revocations/events`,
    introspection: { clientId: 'gateway', clientSecret: gatewaySecret },
    upstreams: Object.fromEntries(
      routes.map((service) => [
        service.name,
        plain ? { instances: [service.url] } : { instances: [service.url], tls: { mode: 'mtls', spiffeId: service.spiffeId } },
      ]),
    ),
    routes: routes.map((service) => ({
      name: service.name,
      match: { pathPrefix: service.route },
      upstream: service.name,
      stripPrefix: true,
      // The gateway checks the token and its audience; each operation's scopes are the service's
      // to check, from its OpenAPI document, where they are known per route.
      policy: 'authenticated',
      audience: service.name,
      rateLimit: { perClient: { ratePerSec: 200, burst: 400 } },
    })),
    log: { level: 'info', accessLog: false },
  }
}
