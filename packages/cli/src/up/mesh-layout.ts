import { join, resolve } from 'node:path'

export type Tier = 'low' | 'medium' | 'high'

/** The SPIFFE trust domain of the demo mesh. */
export const TRUST_DOMAIN = 'meshguard.local'

/**
 * Every listener of `meshguard up` sits at a fixed offset from `--port-base` (default 4000), so
 * two meshes on one machine only need different bases:
 *
 * | Offset | Listener |
 * | --- | --- |
 * | +0 | authorization server (issuer, sign-in pages, console) |
 * | +1 | authorization server, mutual TLS (RFC 8705; medium and high tiers) |
 * | +10 | gateway (the edge) |
 * | +20 … +39 | HTTP services, in the order of the mesh plan |
 * | +40 | gRPC services |
 * | +50 | the demo web client's loopback redirect URI (nothing listens there unless you run a client) |
 */
export const portOffsets = { authServer: 0, authServerMtls: 1, gateway: 10, httpServices: 20, grpc: 40, webClient: 50 } as const

export interface MeshLayout {
  dataDir: string
  tier: Tier
  portBase: number
  issuer: string
  mtlsOrigin: string
  gatewayUrl: string
  grpcAddress: string
  webRedirectUri: string
  httpServicePort(index: number): number
  /** Files of the demo's own state. */
  files: {
    authServerConfig: string
    gatewayConfig: string
    demo: string
    secrets: string
    serviceConfig(name: string): string
  }
  /** A workload's certificate chain and key. */
  workload(name: string): { certFile: string; keyFile: string; spiffeId: string }
  caBundle: string
}

export function meshLayout(dataDirArg: string, portBase: number, tier: Tier): MeshLayout {
  const dataDir = resolve(dataDirArg)
  const host = '127.0.0.1'
  return {
    dataDir,
    tier,
    portBase,
    issuer: `http://${host}:${portBase + portOffsets.authServer}`,
    mtlsOrigin: `https://${host}:${portBase + portOffsets.authServerMtls}`,
    gatewayUrl: `http://${host}:${portBase + portOffsets.gateway}`,
    grpcAddress: `${host}:${portBase + portOffsets.grpc}`,
    webRedirectUri: `http://${host}:${portBase + portOffsets.webClient}/callback`,
    httpServicePort: (index) => {
      if (index >= portOffsets.grpc - portOffsets.httpServices) throw new Error('too many HTTP services for the port layout')
      return portBase + portOffsets.httpServices + index
    },
    files: {
      authServerConfig: join(dataDir, 'mesh', 'auth-server.json'),
      gatewayConfig: join(dataDir, 'mesh', 'gateway.json'),
      demo: join(dataDir, 'demo.json'),
      secrets: join(dataDir, 'mesh', 'secrets.json'),
      serviceConfig: (name) => join(dataDir, 'mesh', `${name}.json`),
    },
    workload: (name) => ({
      certFile: join(dataDir, 'workloads', `${name}.pem`),
      keyFile: join(dataDir, 'workloads', `${name}.key.pem`),
      spiffeId: `spiffe://${TRUST_DOMAIN}/ns/demo/sa/${name}`,
    }),
    caBundle: join(dataDir, 'ca', 'bundle.pem'),
  }
}
