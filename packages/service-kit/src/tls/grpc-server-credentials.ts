import { X509Certificate } from 'node:crypto'
import type { SecureContextOptions } from 'node:tls'
import { experimental, Metadata, ServerCredentials, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js'
import { isTrustDomain, type SpiffeId } from '@meshguard/pki'
import { certificateThumbprint } from '../authorization/certificate-binding.js'
import { checkPeerCertificate } from './check-peer-certificate.js'
import { PeerRefusalError, refusalReporter, type RefusalSink } from './peer-refusal.js'
import { MIN_TLS_VERSION, secureContextOptions } from './secure-context-options.js'
import { checkPeerVerification, type PeerVerificationOptions } from './security-tier.js'
import { compileAllowList, type SpiffeIdAllowList } from './spiffe-allow-list.js'
import type { WorkloadIdentity } from './workload-identity.js'

export interface GrpcServerMtlsOptions extends PeerVerificationOptions, RefusalSink {
  /** The workloads that may call this server at all. */
  allow: SpiffeIdAllowList
  /** Narrower allow-lists for some methods, by path (`/package.Service/Method`). */
  methods?: Readonly<Record<string, SpiffeIdAllowList>> | undefined
  /** The trust domain callers must belong to; default the identity's. */
  trustDomain?: string | undefined
}

type SecureContextWatcher = Parameters<ServerCredentials['_addWatcher']>[0]

/**
 * grpc-js server credentials on a workload identity. grpc-js 1.14 reloads a bound server's
 * certificates when its credentials announce new context options, which the server applies
 * with `setSecureContext`; its own certificate-provider credentials carry only the certificate,
 * key and CA, so these announce the whole context: TLS 1.2 at least and the CRL too.
 */
class WorkloadServerCredentials extends ServerCredentials {
  readonly #identity: WorkloadIdentity
  #stopUpdates: (() => void) | undefined

  constructor(identity: WorkloadIdentity, rejectUnauthorized: boolean) {
    super({ requestCert: true, rejectUnauthorized, minVersion: MIN_TLS_VERSION }, secureContextOptions(identity.credentials))
    this.#identity = identity
  }

  override _addWatcher(watcher: SecureContextWatcher): void {
    if (this.getWatcherCount() === 0) {
      this.#stopUpdates = this.#identity.onUpdate((credentials) => {
        this.updateSecureContextOptions(secureContextOptions(credentials))
      })
    }
    super._addWatcher(watcher)
  }

  override _removeWatcher(watcher: SecureContextWatcher): void {
    super._removeWatcher(watcher)
    if (this.getWatcherCount() === 0) this.#stopUpdates?.()
  }

  override _getSecureContextOptions(): SecureContextOptions {
    return secureContextOptions(this.#identity.credentials)
  }

  _equals(other: ServerCredentials): boolean {
    return other === this
  }
}

/** Certificates whose checks are kept; a flood of distinct ones starts the set afresh. */
const MAX_VERDICTS = 4096

/** Keyed by the call's metadata object, which grpc-js hands on unchanged to the handler. */
const peers = new WeakMap<Metadata, SpiffeId>()

/**
 * Server credentials for a gRPC server on the workload's identity: TLS 1.2 at least, client
 * certificates required and verified against the trust bundle (and CRL), and every call
 * refused unless the caller's certificate is an X509-SVID of the trust domain, for `clientAuth`,
 * on `allow` (and on the method's allow-list). Refusals end the call with `PERMISSION_DENIED`
 * (not allowed) or `UNAUTHENTICATED` and are reported. The identity's updates reach new
 * handshakes without a restart. Handlers learn the caller from {@link grpcPeerId}.
 *
 * grpc-js gives no hook on its TLS server, so handshakes the TLS stack refuses (no certificate,
 * untrusted, expired, revoked) are not reported here; set `GRPC_TRACE=server` to see them.
 *
 * @throws TypeError for a malformed allow-list, no refusal sink, or when clients would not be
 *   verified and `tier` is not `'low'`.
 * @example
 * server.bindAsync('0.0.0.0:8443', mtlsServerCredentials(identity, { allow: [ORDERS], log }), callback)
 */
export function mtlsServerCredentials(identity: WorkloadIdentity, options: GrpcServerMtlsOptions): ServerCredentials {
  const rejectUnauthorized = checkPeerVerification(options, 'mtlsServerCredentials')
  const trustDomain = options.trustDomain ?? identity.trustDomain
  if (!isTrustDomain(trustDomain)) throw new TypeError('trustDomain must be a trust domain name')
  const allow = compileAllowList(options.allow, 'allow')
  const methods = new Map(Object.entries(options.methods ?? {}).map(([path, list]) => [path, compileAllowList(list, `the allow-list of ${path}`)]))
  const report = refusalReporter(options, true)

  // What a certificate is, kept by its thumbprint: grpc-js hands each call the peer's
  // certificate anew, and parsing it costs several times a call's own work. The allow-lists are
  // checked on every call.
  const verdicts = new Map<string, SpiffeId | PeerRefusalError>()
  const identify = (certificate: Buffer, path: string): SpiffeId => {
    const key = certificateThumbprint(certificate)
    let verdict = verdicts.get(key)
    if (verdict === undefined) {
      try {
        verdict = checkPeerCertificate(new X509Certificate(certificate), { trustDomain, purpose: 'clientAuth', allow: () => true })
      } catch (err) {
        if (!(err instanceof PeerRefusalError)) throw err
        verdict = err
      }
      if (verdicts.size >= MAX_VERDICTS) verdicts.clear()
      verdicts.set(key, verdict)
    }
    if (verdict instanceof PeerRefusalError) throw new PeerRefusalError(verdict.code, verdict.message, { ...verdict.details, route: path })
    return verdict
  }

  const authorize = (path: string, certificate: Buffer | undefined): SpiffeId => {
    if (certificate === undefined) throw new PeerRefusalError('ERR_PEER_NO_CERTIFICATE', 'the caller presented no verified certificate', { route: path })
    const id = identify(certificate, path)
    if (!allow(id)) throw new PeerRefusalError('ERR_PEER_NOT_ALLOWED', `${id.uri} is not allowed on ${path}`, { spiffeId: id.uri, route: path })
    const allowedHere = methods.get(path)
    if (allowedHere !== undefined && !allowedHere(id)) {
      throw new PeerRefusalError('ERR_PEER_NOT_ALLOWED', `${id.uri} is not allowed on ${path}`, { spiffeId: id.uri, route: path })
    }
    return id
  }

  const interceptor: ServerInterceptor = (descriptor, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, forward) {
            try {
              peers.set(metadata, authorize(descriptor.path, call.getAuthContext().sslPeerCertificate?.raw))
            } catch (err) {
              if (!(err instanceof PeerRefusalError)) throw err
              report(err)
              call.sendStatus({
                code: err.code === 'ERR_PEER_NOT_ALLOWED' ? status.PERMISSION_DENIED : status.UNAUTHENTICATED,
                details: err.message,
                metadata: new Metadata(),
              })
              return
            }
            forward(metadata)
          },
        })
      },
    })

  return experimental.createServerCredentialsWithInterceptors(new WorkloadServerCredentials(identity, rejectUnauthorized), [interceptor])
}

/**
 * The SPIFFE ID of the workload that made this call, as {@link mtlsServerCredentials} checked it.
 *
 * @throws Error when the call did not come through those credentials.
 * @example
 * getReading(call, callback) { const caller = grpcPeerId(call).uri; ... }
 */
export function grpcPeerId(call: { metadata: Metadata }): SpiffeId {
  const id = peers.get(call.metadata)
  if (id === undefined) throw new Error('this call was not authorised by mtlsServerCredentials')
  return id
}
