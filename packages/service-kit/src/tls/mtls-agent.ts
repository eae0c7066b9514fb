import { createSecureContext } from 'node:tls'
import { isTrustDomain } from '@meshguard/pki'
import { Agent, buildConnector } from 'undici'
import { spiffeServerIdentity } from './check-server-identity.js'
import { refusalReporter, type RefusalSink } from './peer-refusal.js'
import { secureContextOptions } from './secure-context-options.js'
import { checkPeerVerification, type PeerVerificationOptions } from './security-tier.js'
import { compileAllowList, type SpiffeIdAllowList } from './spiffe-allow-list.js'
import type { WorkloadCredentials, WorkloadIdentity } from './workload-identity.js'

export interface MtlsAgentOptions extends PeerVerificationOptions, RefusalSink {
  /** The servers this client may talk to, by SPIFFE ID; host names are not checked. */
  expect: SpiffeIdAllowList
  /** The trust domain servers must belong to; default the identity's. */
  trustDomain?: string | undefined
  /** undici's Agent options (connections per origin, keep-alive, `allowH2`, `connectTimeout`); the connector is this function's. */
  agent?: Omit<Agent.Options, 'connect'> | undefined
}

/**
 * An undici `Agent` that presents the workload's certificate, trusts only its trust bundle, and
 * connects only to servers whose certificate carries an expected SPIFFE ID. Every new connection
 * uses the identity's credentials of the moment, so a rotated certificate goes out on the next
 * connection while open ones carry on. Pass it as `dispatcher` (or to the outbound client).
 * Refused servers fail the request with a {@link PeerRefusalError}, and are reported to
 * `onRefusal`/`log` when given.
 *
 * @throws TypeError for an empty or malformed `expect`, or when servers would not be verified
 *   (`rejectUnauthorized: false`, `NODE_TLS_REJECT_UNAUTHORIZED=0`) and `tier` is not `'low'`.
 * @example
 * const dispatcher = createMtlsAgent(identity, { expect: ['spiffe://example.org/ns/shop/sa/payments'] })
 * await request('https://payments.shop.svc:8443/payments', { dispatcher })
 */
export function createMtlsAgent(identity: WorkloadIdentity, options: MtlsAgentOptions): Agent {
  const rejectUnauthorized = checkPeerVerification(options, 'createMtlsAgent')
  const trustDomain = options.trustDomain ?? identity.trustDomain
  if (!isTrustDomain(trustDomain)) throw new TypeError('trustDomain must be a trust domain name')
  const checkServerIdentity = spiffeServerIdentity(trustDomain, compileAllowList(options.expect, 'expect'), refusalReporter(options, false))
  const { agent = {} } = options
  const build = (credentials: WorkloadCredentials) =>
    buildConnector({
      secureContext: createSecureContext(secureContextOptions(credentials)),
      rejectUnauthorized,
      checkServerIdentity,
      allowH2: agent.allowH2 ?? false,
      ...(agent.connectTimeout !== undefined && { timeout: agent.connectTimeout }),
      ...(agent.maxCachedSessions !== undefined && { maxCachedSessions: agent.maxCachedSessions }),
    })
  // One connector per generation of credentials; TLS sessions cached under old ones are dropped with it.
  let current = { credentials: identity.credentials, connect: build(identity.credentials) }
  const connect: buildConnector.connector = (connectOptions, callback) => {
    const { credentials } = identity
    if (credentials !== current.credentials) current = { credentials, connect: build(credentials) }
    current.connect(connectOptions, callback)
  }
  return new Agent({ ...agent, connect })
}
