import {
  credentials,
  Metadata,
  ServerInterceptingCall,
  status,
  type CallCredentials,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type StatusObject,
} from '@grpc/grpc-js'
import { certificateThumbprint } from '../authorization/certificate-binding.js'
import { authorizeOperation, type RequestAuth } from '../authorization/authorize-request.js'
import { VerificationError } from '../errors.js'
import { GrpcMethods, type GrpcMethodDecision } from '../grpc/grpc-methods.js'
import { grpcStatusNameOf, httpRefusal } from '../http-status.js'
import type { Verifier } from '../verifier/create-verifier.js'

export { GrpcMethods } from '../grpc/grpc-methods.js'
export type { GrpcMethodDecision, GrpcMethodPolicy } from '../grpc/grpc-methods.js'

/** What a gRPC handler learns about an authorised call. */
export type GrpcCallAuth = RequestAuth<GrpcMethodDecision>

export interface GrpcMeshguardOptions {
  methods: GrpcMethods
  verifier: Verifier
  /** Every refused call, with the method and the reason; for the service's log. */
  onRefusal?: (path: string, err: VerificationError) => void
  /** Failures that are not refusals (answered `INTERNAL`). */
  onError?: (err: Error) => void
}

/** Keyed by the call's metadata object, which grpc-js hands on unchanged to the handler. */
const authorised = new WeakMap<Metadata, GrpcCallAuth>()
/** Node's timers overflow past this and fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * A grpc-js server interceptor that authorises every call, streaming ones included, before its
 * handler sees it: the method's policy from {@link GrpcMethods}, one `authorization: Bearer`
 * value verified, scopes from `x-scope-token` or the caller, the chain the method requires.
 * A refusal ends the call with `UNAUTHENTICATED`, `PERMISSION_DENIED`, `UNIMPLEMENTED` or
 * `UNAVAILABLE` and a `www-authenticate` trailer as in RFC 6750 §3. A streaming call is ended
 * with `UNAUTHENTICATED` as soon as its token expires or is revoked. {@link grpcCallAuth}
 * gives the handler what was learnt.
 *
 * @example
 * const server = new Server({ interceptors: [meshguardInterceptor({ methods, verifier })] })
 */
export function meshguardInterceptor(options: GrpcMeshguardOptions): ServerInterceptor {
  const { methods, verifier, onRefusal, onError } = options
  if (!((methods as unknown) instanceof GrpcMethods)) throw new TypeError('methods must be a GrpcMethods')
  if (typeof (verifier as Partial<Verifier> | undefined)?.verify !== 'function') throw new TypeError('verifier must come from createVerifier')

  return (descriptor, call) => {
    let ended = false
    let stopWatching: (() => void) | undefined
    let expiryTimer: NodeJS.Timeout | undefined
    const release = () => {
      stopWatching?.()
      clearTimeout(expiryTimer)
    }
    const refuse = (err: unknown) => {
      if (ended) return
      ended = true
      release()
      call.sendStatus(refusalStatus(descriptor.path, err, onRefusal, onError))
    }
    // A long-lived call holds its token to account for as long as it lasts.
    const watch = (token: string, jti: string, exp: number) => {
      const recheck = () => {
        verifier.verify(token).then(() => {
          armExpiry(1_000)
        }, refuse)
      }
      const armExpiry = (atLeastMs: number) => {
        if (ended) return
        clearTimeout(expiryTimer)
        expiryTimer = setTimeout(recheck, Math.min(MAX_TIMER_MS, Math.max(atLeastMs, exp * 1000 - Date.now())))
      }
      stopWatching = verifier.onInvalidate((revokedJti) => {
        if (revokedJti === undefined || revokedJti === jti) recheck()
      })
      armExpiry(0)
    }

    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, forward) {
            Promise.resolve()
              .then(() =>
                authorizeOperation(
                  methods.match(descriptor.path),
                  { authorization: single(metadata, 'authorization'), scopeToken: single(metadata, 'x-scope-token'), peerThumbprint: () => peerThumbprint(call) },
                  verifier,
                ),
              )
              .then(
              (auth) => {
                if (ended) return
                authorised.set(metadata, auth)
                if ((descriptor.requestStream || descriptor.responseStream) && auth.caller) {
                  watch(auth.callerToken!, auth.caller.claims.jti, auth.caller.claims.exp)
                }
                forward(metadata)
              },
              refuse,
            )
          },
          onCancel() {
            ended = true
            release()
          },
        })
      },
      sendStatus(statusObject, next) {
        ended = true
        release()
        next(statusObject)
      },
    })
  }
}

/**
 * What {@link meshguardInterceptor} learnt about this call. Throws when the call did not pass
 * through it (the interceptor is not installed), so a handler never runs on a guess.
 *
 * @example
 * getReading(call, callback) { const { caller } = grpcCallAuth(call); ... }
 */
export function grpcCallAuth(call: { metadata: Metadata }): GrpcCallAuth {
  const auth = authorised.get(call.metadata)
  if (auth === undefined) throw new Error('this call was not authorised: install meshguardInterceptor on the server')
  return auth
}

/**
 * Call credentials that put a bearer token (and optionally a scope token, seed 004) on every
 * call. `token` is asked each time: give it a cached source, such as a `ClientCredentials`.
 * If it fails, the call fails (`UNAVAILABLE`) instead of going out without a token.
 *
 * @example
 * client.getReading(request, { credentials: bearerCallCredentials(() => tokens.get()) }, callback)
 */
export function bearerCallCredentials(
  token: () => string | Promise<string>,
  options: { scopeToken?: () => string | Promise<string> } = {},
): CallCredentials {
  return credentials.createFromMetadataGenerator((_params, callback) => {
    Promise.all([token(), options.scopeToken?.()]).then(
      ([bearer, scope]) => {
        const metadata = new Metadata()
        metadata.set('authorization', `Bearer ${bearer}`)
        if (scope !== undefined) metadata.set('x-scope-token', scope)
        callback(null, metadata)
      },
      (err: unknown) => {
        // grpc-js ends the call with the error's code: the token source is unavailable, not the server.
        callback(Object.assign(new Error(err instanceof Error ? err.message : String(err)), { code: status.UNAVAILABLE }))
      },
    )
  })
}

/**
 * The one value of a credential. Node's HTTP/2 joins a repeated `x-scope-token` with ", "
 * (no token has a comma) and in-process metadata may hold several values: both are refused.
 * A repeated `authorization` field never gets this far: Node keeps the first and drops the rest.
 */
function single(metadata: Metadata, name: string): string | undefined {
  const values = metadata.get(name)
  if (values.length === 0) return undefined
  const [value] = values
  if (values.length > 1 || typeof value !== 'string' || value.includes(',')) {
    throw new VerificationError('ERR_REQUEST_INVALID', `more than one ${name} value`)
  }
  return value
}

/** RFC 8705: the client certificate of the call's connection; the handshake proved its key is held. */
function peerThumbprint(call: ServerInterceptingCallInterface): string | undefined {
  const der = call.getAuthContext().sslPeerCertificate?.raw
  return der === undefined ? undefined : certificateThumbprint(der)
}

function refusalStatus(
  path: string,
  err: unknown,
  onRefusal: GrpcMeshguardOptions['onRefusal'],
  onError: GrpcMeshguardOptions['onError'],
): StatusObject {
  const metadata = new Metadata()
  if (!(err instanceof VerificationError)) {
    onError?.(err instanceof Error ? err : new Error(String(err)))
    return { code: status.INTERNAL, details: 'internal error', metadata }
  }
  onRefusal?.(path, err)
  metadata.set('www-authenticate', httpRefusal(err).wwwAuthenticate)
  return { code: status[grpcStatusNameOf(err.code)], details: err.message, metadata }
}
