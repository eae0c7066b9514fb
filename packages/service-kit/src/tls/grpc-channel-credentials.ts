import { experimental, type ChannelCredentials } from '@grpc/grpc-js'
import { isTrustDomain } from '@meshguard/pki'
import { spiffeServerIdentity } from './check-server-identity.js'
import { refusalReporter, type RefusalSink } from './peer-refusal.js'
import { checkPeerVerification, type PeerVerificationOptions } from './security-tier.js'
import { compileAllowList, type SpiffeIdAllowList } from './spiffe-allow-list.js'
import type { WorkloadCredentials, WorkloadIdentity } from './workload-identity.js'

export interface GrpcChannelMtlsOptions extends PeerVerificationOptions, RefusalSink {
  /** The servers this channel may talk to, by SPIFFE ID; host names are not checked. */
  expect: SpiffeIdAllowList
  /** The trust domain servers must belong to; default the identity's. */
  trustDomain?: string | undefined
}

type CaListener = experimental.CaCertificateUpdateListener
type IdentityListener = experimental.IdentityCertificateUpdateListener

/** The identity as a grpc-js certificate provider: its trust bundle and its certificate, now and after every update. */
class WorkloadCertificateProvider implements experimental.CertificateProvider {
  readonly #identity: WorkloadIdentity
  readonly #caListeners = new Set<CaListener>()
  readonly #identityListeners = new Set<IdentityListener>()
  #stopUpdates: (() => void) | undefined

  constructor(identity: WorkloadIdentity) {
    this.#identity = identity
  }

  addCaCertificateListener(listener: CaListener): void {
    this.#add(this.#caListeners, listener)
    listener(caUpdate(this.#identity.credentials))
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#remove(this.#caListeners, listener)
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#add(this.#identityListeners, listener)
    listener(identityUpdate(this.#identity.credentials))
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#remove(this.#identityListeners, listener)
  }

  #add<T>(listeners: Set<T>, listener: T): void {
    listeners.add(listener)
    this.#stopUpdates ??= this.#identity.onUpdate((credentials) => {
      for (const each of this.#caListeners) each(caUpdate(credentials))
      for (const each of this.#identityListeners) each(identityUpdate(credentials))
    })
  }

  #remove<T>(listeners: Set<T>, listener: T): void {
    listeners.delete(listener)
    if (this.#caListeners.size + this.#identityListeners.size === 0) {
      this.#stopUpdates?.()
      this.#stopUpdates = undefined
    }
  }
}

const caUpdate = (credentials: WorkloadCredentials) => ({ caCertificate: Buffer.from(credentials.trustBundlePem) })
const identityUpdate = (credentials: WorkloadCredentials) => ({
  certificate: Buffer.from(credentials.certificateChainPem),
  privateKey: Buffer.from(credentials.privateKeyPem),
})

/**
 * Channel credentials for a gRPC client on the workload's identity: it presents the workload's
 * certificate, trusts only the trust bundle, and accepts only servers whose certificate carries an
 * expected SPIFFE ID (host names are not checked). Built on grpc-js's certificate-provider
 * credentials, so each new connection takes the identity's credentials of the moment. grpc-js
 * does not apply a CRL to channels; a server's certificate is checked for expiry and chain only.
 *
 * @throws TypeError for a malformed `expect`, or when servers would not be verified and `tier`
 *   is not `'low'`.
 * @example
 * const client = new SensorClient('payments.shop.svc:8443', mtlsChannelCredentials(identity, { expect: [PAYMENTS] }))
 */
export function mtlsChannelCredentials(identity: WorkloadIdentity, options: GrpcChannelMtlsOptions): ChannelCredentials {
  const rejectUnauthorized = checkPeerVerification(options, 'mtlsChannelCredentials')
  const trustDomain = options.trustDomain ?? identity.trustDomain
  if (!isTrustDomain(trustDomain)) throw new TypeError('trustDomain must be a trust domain name')
  const checkServerIdentity = spiffeServerIdentity(trustDomain, compileAllowList(options.expect, 'expect'), refusalReporter(options, false))
  const provider = new WorkloadCertificateProvider(identity)
  return experimental.createCertificateProviderChannelCredentials(provider, provider, { checkServerIdentity, rejectUnauthorized })
}
