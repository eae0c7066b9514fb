import { describe, expect, it } from 'vitest'
import { assertTierProfile, TierProfileError } from '../src/runtime/tier-profile.js'
import type { ServiceRuntimeConfig } from '../src/runtime/service-config.js'

const TD = 'spiffe://example.org/ns/demo/sa'
const tls = { certFile: '/data/mesh/api-b.pem', keyFile: '/data/mesh/api-b.key', caFile: '/data/ca/bundle.pem' }

const base = {
  name: 'api-b',
  host: '127.0.0.1',
  port: 0,
  issuer: 'http://127.0.0.1:4000',
  jwksUri: 'http://127.0.0.1:4000/.well-known/jwks.json',
  revocationEventsUri: 'http://127.0.0.1:4000/oauth2/revocations/events',
}

const configs: Record<'low' | 'medium' | 'high', ServiceRuntimeConfig> = {
  low: { ...base, tier: 'low', tokenEndpoint: 'http://127.0.0.1:4000/oauth2/token', clientSecret: 's3cret', peers: { 'api-d': { url: 'http://127.0.0.1:7104' } } },
  medium: {
    ...base,
    tier: 'medium',
    tokenEndpoint: 'http://127.0.0.1:4000/oauth2/token',
    clientSecret: 's3cret',
    tls,
    spiffeId: `${TD}/api-b`,
    peers: { 'api-d': { url: 'https://127.0.0.1:7104', spiffeId: `${TD}/api-d` } },
  },
  high: {
    ...base,
    tier: 'high',
    tokenEndpoint: 'https://127.0.0.1:4443/oauth2/token',
    tls,
    spiffeId: `${TD}/api-b`,
    authServerSpiffeId: 'spiffe://example.org/meshguard/auth-server',
    allowedCallers: [`${TD}/api-a`, `${TD}/gateway`],
    auditUri: 'https://127.0.0.1:4443/audit/events',
    peers: { 'api-d': { url: 'https://127.0.0.1:7104', spiffeId: `${TD}/api-d` } },
  },
}

describe('assertTierProfile', () => {
  it.each(['low', 'medium', 'high'] as const)('accepts a %s configuration that gives the tier what it needs', (tier) => {
    expect(() => {
      assertTierProfile(configs[tier], {})
    }).not.toThrow()
  })

  const weaker: Array<[string, 'low' | 'medium' | 'high', Partial<ServiceRuntimeConfig>, Record<string, string>, string]> = [
    ['low without a client secret', 'low', { clientSecret: undefined }, {}, 'the low tier authenticates services with a client secret: clientSecret is missing'],
    ['medium without a certificate', 'medium', { tls: undefined }, {}, 'the medium tier requires TLS inside: tls files are missing'],
    ['medium without its SPIFFE ID', 'medium', { spiffeId: undefined }, {}, 'the medium tier names each workload by its certificate: spiffeId is missing'],
    ['medium with a plain http peer', 'medium', { peers: { 'api-d': { url: 'http://127.0.0.1:7104', spiffeId: `${TD}/api-d` } } }, {}, 'the medium tier requires TLS inside: peer "api-d" is plain http://127.0.0.1:7104'],
    ['medium with a peer of unknown identity', 'medium', { peers: { 'api-d': { url: 'https://127.0.0.1:7104' } } }, {}, 'the medium tier checks each peer\'s certificate: peer "api-d" has no spiffeId'],
    ['medium with a remote plain http token endpoint', 'medium', { tokenEndpoint: 'http://auth.internal/oauth2/token' }, {}, 'the medium tier requires TLS inside: tokenEndpoint is plain http://auth.internal/oauth2/token (only loopback may be)'],
    ['medium with an https token endpoint of unknown identity', 'medium', { tokenEndpoint: 'https://auth.internal/oauth2/token' }, {}, "the medium tier checks the authorization server's certificate: authServerSpiffeId is missing"],
    ['medium with certificate checks off', 'medium', {}, { NODE_TLS_REJECT_UNAUTHORIZED: '0' }, 'the medium tier verifies certificates: NODE_TLS_REJECT_UNAUTHORIZED=0 turns that off in this process'],
    ['high without a certificate', 'high', { tls: undefined }, {}, 'the high tier requires mutual TLS: tls files are missing'],
    ['high with a key file missing', 'high', { tls: { ...tls, keyFile: '' } }, {}, 'the high tier requires mutual TLS: tls files are missing'],
    ['high with a client secret', 'high', { clientSecret: 's3cret' }, {}, 'the high tier authenticates services with their certificates (tls_client_auth); a client secret is configured'],
    ['high with the plain token endpoint', 'high', { tokenEndpoint: 'http://127.0.0.1:4000/oauth2/token' }, {}, "the high tier gets certificate-bound tokens (RFC 8705) at the authorization server's mutual-TLS token endpoint: tokenEndpoint is plain http://127.0.0.1:4000/oauth2/token"],
    ['high with a plain http peer', 'high', { peers: { 'api-d': { url: 'http://127.0.0.1:7104', spiffeId: `${TD}/api-d` } } }, {}, 'the high tier requires mutual TLS: peer "api-d" is plain http://127.0.0.1:7104'],
    ['high with nobody allowed to call', 'high', { allowedCallers: [] }, {}, 'the high tier admits only named callers over mutual TLS: allowedCallers is empty'],
    ['high with the auth server of unknown identity', 'high', { authServerSpiffeId: undefined }, {}, "the high tier checks the authorization server's certificate: authServerSpiffeId is missing"],
    ['high reporting calls over plain http', 'high', { auditUri: 'http://127.0.0.1:4000/audit/events' }, {}, 'the high tier reports calls with tls_client_auth over mutual TLS: auditUri is plain http://127.0.0.1:4000/audit/events'],
    ['high fetching keys from a remote plain http host', 'high', { jwksUri: 'http://auth.internal/.well-known/jwks.json' }, {}, 'the high tier requires TLS inside: jwksUri is plain http://auth.internal/.well-known/jwks.json (only loopback may be)'],
    ['an unknown tier', 'low', { tier: 'none' as never }, {}, 'the tier must be low, medium or high, not "none"'],
  ]

  it.each(weaker)('refuses %s, saying why', (_name, tier, change, env, problem) => {
    const config = { ...configs[tier], ...change }
    expect(() => {
      assertTierProfile(config, env)
    }).toThrow(new TierProfileError('api-b', [problem]))
    expect(() => {
      assertTierProfile(config, env)
    }).toThrow(`service "api-b": ${problem}`)
  })

  it('reports every problem at once', () => {
    const config: ServiceRuntimeConfig = { ...configs.high, tls: undefined, clientSecret: 's3cret' }
    expect(() => {
      assertTierProfile(config, {})
    }).toThrow(
      'service "api-b": the high tier requires mutual TLS: tls files are missing; the high tier authenticates services with their certificates (tls_client_auth); a client secret is configured',
    )
  })
})
