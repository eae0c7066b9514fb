import { credentials, type ChannelCredentials } from '@grpc/grpc-js'
import { grpcPlan } from '@meshguard/examples'
import { createMtlsAgent } from '@meshguard/service-kit/tls'
import { mtlsChannelCredentials } from '@meshguard/service-kit/tls/grpc'
import { Agent, request, type Dispatcher } from 'undici'
import type { MeshAuthTarget } from './mesh-auth-server.js'
import type { MeshConfiguration } from './mesh-configurations.js'
import { DEMO_CALLER, GATEWAY, type MeshWorkloads } from './mesh-workloads.js'

/** How the benchmark reaches a configuration: a caller's token, the HTTP client, the gRPC credentials. */
export interface MeshClients {
  /** A caller's token from the configuration's authorization server (client credentials, `client_secret_basic`). */
  tokens(configuration: MeshConfiguration, client: string, scope: string): Promise<string>
  /**
   * The load generator's HTTP client: keep-alive connections, at most `connections`. Above the low
   * tier the kit's `createMtlsAgent` with the gateway's workload identity, which api-a admits on
   * the high tier, checking that the server is api-a.
   */
  http(configuration: MeshConfiguration, connections: number): Dispatcher
  /** Plaintext for off and low; above, the kit's credentials with `demo-caller`'s identity, checking that the server is the gRPC process. */
  grpc(configuration: MeshConfiguration): ChannelCredentials
}

/** The clients of the mesh the parent loads, as {@link MeshClients}. */
export function meshClients(workloads: MeshWorkloads, auth: MeshAuthTarget): MeshClients {
  return {
    async tokens(c, client, scope) {
      const issuer = c === 'high' ? auth.certificateClients : auth.secretClients
      const response = await request(issuer.tokenEndpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${client}:${issuer.secrets[client]!}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
      })
      const body = (await response.body.json()) as { access_token?: string }
      if (response.statusCode !== 200 || body.access_token === undefined) throw new Error(`${client} got no token for ${scope}: ${response.statusCode} ${JSON.stringify(body)}`)
      return body.access_token
    },
    http(c, connections) {
      if (c === 'off' || c === 'low') return new Agent({ connections })
      return createMtlsAgent(workloads.identity(GATEWAY), { expect: [workloads.spiffeId('api-a')], tier: c, agent: { connections } })
    },
    grpc(c) {
      if (c === 'off' || c === 'low') return credentials.createInsecure()
      return mtlsChannelCredentials(workloads.identity(DEMO_CALLER), { expect: [workloads.spiffeId(grpcPlan.name)], tier: c })
    },
  }
}
