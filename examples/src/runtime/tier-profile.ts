import { isIP } from 'node:net'
import type { ServiceRuntimeConfig } from './service-config.js'

/** A service configuration weaker than its security tier, with every reason why. */
export class TierProfileError extends Error {
  constructor(
    readonly service: string,
    readonly problems: readonly string[],
  ) {
    super(`service "${service}": ${problems.join('; ')}`)
    this.name = 'TierProfileError'
  }
}

const TIERS: readonly string[] = ['low', 'medium', 'high']

/**
 * Checks that a service's configuration gives it everything its tier promises, before it starts:
 *
 * - every tier verifies tokens locally; low and medium services authenticate with a client secret;
 * - medium: TLS inside (its workload certificate, every peer over https with a SPIFFE ID to check,
 *   the authorization server over https or on loopback);
 * - high: mutual TLS (the same, plus only named callers admitted), and tokens bound to the
 *   service's certificate (RFC 8705): `tls_client_auth` at the mutual-TLS token endpoint, no secret.
 *
 * @param env the environment, for `NODE_TLS_REJECT_UNAUTHORIZED`.
 * @throws TierProfileError listing every problem.
 * @example
 * assertTierProfile({ ...config, tier: 'high', clientSecret: 's3cret' })
 * // TierProfileError: service "api-b": the high tier authenticates services with their certificates (tls_client_auth); a client secret is configured
 */
export function assertTierProfile(config: ServiceRuntimeConfig, env: Readonly<Record<string, string | undefined>> = process.env): void {
  const problems = tierProblems(config, env)
  if (problems.length > 0) throw new TierProfileError(config.name, problems)
}

function tierProblems(config: ServiceRuntimeConfig, env: Readonly<Record<string, string | undefined>>): string[] {
  const { tier } = config
  if (!TIERS.includes(tier)) return [`the tier must be low, medium or high, not ${JSON.stringify(tier)}`]
  const problems: string[] = []
  if (tier !== 'high' && !config.clientSecret) problems.push(`the ${tier} tier authenticates services with a client secret: clientSecret is missing`)
  if (tier === 'low') return problems

  const transport = tier === 'high' ? 'mutual TLS' : 'TLS inside'
  if (config.tls === undefined || !config.tls.certFile || !config.tls.keyFile || !config.tls.caFile) problems.push(`the ${tier} tier requires ${transport}: tls files are missing`)
  if (!config.spiffeId) problems.push(`the ${tier} tier names each workload by its certificate: spiffeId is missing`)
  for (const [name, peer] of Object.entries(config.peers)) {
    if (!peer.url.startsWith('https://')) problems.push(`the ${tier} tier requires ${transport}: peer "${name}" is plain ${peer.url}`)
    if (!peer.spiffeId) problems.push(`the ${tier} tier checks each peer's certificate: peer "${name}" has no spiffeId`)
  }
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') problems.push(`the ${tier} tier verifies certificates: NODE_TLS_REJECT_UNAUTHORIZED=0 turns that off in this process`)

  if (tier === 'medium') {
    for (const [name, uri] of authServerUris(config)) {
      if (isPlainHttp(uri) && !isLoopback(uri)) problems.push(`the medium tier requires TLS inside: ${name} is plain ${uri} (only loopback may be)`)
    }
    if (isHttps(config.tokenEndpoint) && !config.authServerSpiffeId) problems.push('the medium tier checks the authorization server\'s certificate: authServerSpiffeId is missing')
    return problems
  }

  if (config.clientSecret !== undefined) problems.push('the high tier authenticates services with their certificates (tls_client_auth); a client secret is configured')
  if (!isHttps(config.tokenEndpoint)) {
    problems.push(`the high tier gets certificate-bound tokens (RFC 8705) at the authorization server's mutual-TLS token endpoint: tokenEndpoint is plain ${config.tokenEndpoint}`)
  }
  if (config.auditUri !== undefined && !isHttps(config.auditUri)) problems.push(`the high tier reports calls with tls_client_auth over mutual TLS: auditUri is plain ${config.auditUri}`)
  for (const [name, uri] of authServerUris(config).filter(([name]) => name === 'jwksUri' || name === 'revocationEventsUri')) {
    if (isPlainHttp(uri) && !isLoopback(uri)) problems.push(`the high tier requires TLS inside: ${name} is plain ${uri} (only loopback may be)`)
  }
  if (!config.authServerSpiffeId) problems.push("the high tier checks the authorization server's certificate: authServerSpiffeId is missing")
  if (config.allowedCallers === undefined || config.allowedCallers.length === 0) {
    problems.push('the high tier admits only named callers over mutual TLS: allowedCallers is empty')
  }
  return problems
}

function authServerUris(config: ServiceRuntimeConfig): Array<[string, string]> {
  const uris: Array<[string, string]> = [
    ['tokenEndpoint', config.tokenEndpoint],
    ['jwksUri', config.jwksUri],
    ['revocationEventsUri', config.revocationEventsUri],
  ]
  if (config.auditUri !== undefined) uris.push(['auditUri', config.auditUri])
  return uris
}

function isHttps(uri: string): boolean {
  return uri.startsWith('https://')
}

function isPlainHttp(uri: string): boolean {
  return !isHttps(uri)
}

function isLoopback(uri: string): boolean {
  let hostname: string
  try {
    hostname = new URL(uri).hostname
  } catch {
    return false
  }
  return hostname === 'localhost' || hostname === '[::1]' || (isIP(hostname) === 4 && hostname.startsWith('127.'))
}
