import { WorkloadIdentity } from '@meshguard/service-kit/tls'
import type { ServiceRuntimeConfig } from './service-config.js'

/**
 * The service's workload identity from its TLS files, refused unless the certificate names the
 * SPIFFE ID its configuration gives (medium and high tiers, where `tls` is checked present).
 */
export async function workloadIdentity(config: ServiceRuntimeConfig): Promise<WorkloadIdentity> {
  const { tls } = config
  const identity = await WorkloadIdentity.fromFiles({ certificateChain: tls!.certFile, privateKey: tls!.keyFile, trustBundle: tls!.caFile })
  if (identity.spiffeId.uri !== config.spiffeId) {
    throw new Error(`service "${config.name}": its certificate names ${identity.spiffeId.uri}, not the configured spiffeId ${String(config.spiffeId)}`)
  }
  return identity
}

/** Runs a service's clean-up steps, last started first, each one whatever the others did. */
export async function closeAll(cleanup: ReadonlyArray<() => unknown>): Promise<void> {
  for (const step of [...cleanup].reverse()) {
    try {
      await step()
    } catch {
      // Closing goes on: what could not close has nothing left to give.
    }
  }
}

/** `host:port`, with an IPv6 host in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`
}
