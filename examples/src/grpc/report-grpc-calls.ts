import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js'
import type { VerificationError } from '@meshguard/service-kit'
import { grpcCallAuth } from '@meshguard/service-kit/grpc'
import type { CallEvent } from '../runtime/call-reporter.js'

/** What the reports go to: a `CallReporter`. */
export interface CallSink {
  report(event: CallEvent): void
}

/**
 * Reports the service's gRPC calls for the console's map, as the HTTP services do theirs: each
 * call the kit let through (from the interceptor, which must come after `meshguardInterceptor` in
 * the server's list: it reads what that one learnt), and each refusal with its code (from
 * `onRefusal`, which does not say who called: refusals name no caller).
 *
 * @example
 * const reports = reportGrpcCalls('grpc-demo', reporter)
 * new Server({ interceptors: [meshguardInterceptor({ methods, verifier, onRefusal: reports.onRefusal }), reports.interceptor] })
 */
export function reportGrpcCalls(service: string, sink: CallSink, now: () => number = Date.now): { interceptor: ServerInterceptor; onRefusal: (path: string, err: VerificationError) => void } {
  const interceptor: ServerInterceptor = (descriptor, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, forward) {
            const { caller, scopeToken, grantedBy } = grpcCallAuth({ metadata })
            if (grantedBy !== 'public') {
              sink.report({
                ts: now(),
                decision: 'allow',
                service,
                caller: (grantedBy === 'scope-token' ? scopeToken?.clientId : caller?.clientId) ?? null,
                subject: caller?.subject ?? null,
                act: caller !== undefined && caller.chain.length > 0 ? [...caller.chain] : null,
                method: 'POST',
                path: descriptor.path,
              })
            }
            forward(metadata)
          },
        })
      },
    })
  const onRefusal = (path: string, err: VerificationError) => {
    sink.report({ ts: now(), decision: 'deny', service, caller: null, subject: null, act: null, method: 'POST', path, reason: err.code })
  }
  return { interceptor, onRefusal }
}
