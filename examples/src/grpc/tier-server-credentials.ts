import { ServerCredentials } from '@grpc/grpc-js'
import type { SecurityTier, SpiffeIdAllowList, WarnLogger, WorkloadIdentity } from '@meshguard/service-kit/tls'
import { mtlsServerCredentials } from '@meshguard/service-kit/tls/grpc'

export interface TierCredentialOptions {
  /** The workload's identity; required on the medium and high tiers. */
  identity?: WorkloadIdentity | undefined
  /** High tier: the workloads that may call at all, by SPIFFE ID (or a predicate over it). */
  allowedCallers?: SpiffeIdAllowList | undefined
  /** Where refused callers are reported (high tier). */
  log: WarnLogger
}

/**
 * The transport of a gRPC server on seed 004's tier:
 *
 * | Tier | Transport |
 * | --- | --- |
 * | low | plaintext HTTP/2 |
 * | medium | TLS with the workload's certificate; callers present none |
 * | high | mutual TLS: callers present a certificate of the trust domain (X509-SVID, `clientAuth`) on `allowedCallers` |
 *
 * @throws TypeError when the tier needs an identity and has none, or on the high tier without
 *   `allowedCallers` or with a malformed one.
 * @example
 * server.bindAsync('127.0.0.1:4040', tierServerCredentials('high', { identity, allowedCallers: [DEMO_CALLER], log }), callback)
 */
export function tierServerCredentials(tier: SecurityTier, options: TierCredentialOptions): ServerCredentials {
  if (tier === 'low') return ServerCredentials.createInsecure()
  const { identity, allowedCallers, log } = options
  if (identity === undefined) throw new TypeError(`the ${tier} tier serves gRPC over TLS: a workload identity is required`)
  switch (tier) {
    case 'medium': {
      // The kit's gRPC credentials always ask for a client certificate; this tier does not, so
      // grpc-js's own TLS credentials carry the identity's certificate (not renewed in place).
      const { certificateChainPem, privateKeyPem } = identity.credentials
      return ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(certificateChainPem), private_key: Buffer.from(privateKeyPem) }], false)
    }
    case 'high':
      if (allowedCallers === undefined) throw new TypeError('the high tier admits only named callers: allowedCallers is required')
      return mtlsServerCredentials(identity, { allow: allowedCallers, tier, log })
  }
}
