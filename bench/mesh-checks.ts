import { status } from '@grpc/grpc-js'
import { grpcDemoClient } from '@meshguard/examples'
import { Agent, type Dispatcher } from 'undici'
import type { MeshClients } from './mesh-clients.js'
import type { MeshConfiguration, RunningMesh } from './mesh-configurations.js'
import { BENCH_SENSOR } from './mesh-load.js'
import { GRPC_CALLER } from './mesh-workloads.js'

export interface MeshCheckResult {
  /** Every answer that was not the expected one. */
  problems: string[]
  /** Each configuration's `GET /summary` answer: what every answer under load must be. */
  bodies: Partial<Record<MeshConfiguration, string>>
}

/** The headers of the benchmark's `GET /summary`: the caller's token, when there is one. */
export function summaryHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? { accept: 'application/json' } : { accept: 'application/json', authorization: `Bearer ${token}` }
}

/**
 * One request at a time, before any load: each configuration's summary (200, every hop answered,
 * the same products as off's); the tiers' refusal of a summary without a token (401) and of a
 * gRPC call without one (`UNAUTHENTICATED`); the high tier's refusal of a TLS client without a
 * certificate; and one `GetReading` per configuration.
 */
export async function checkMesh(meshes: ReadonlyMap<MeshConfiguration, RunningMesh>, clients: MeshClients): Promise<MeshCheckResult> {
  const problems: string[] = []
  const bodies: Partial<Record<MeshConfiguration, string>> = {}
  const products = new Map<MeshConfiguration, string>()
  for (const [c, mesh] of meshes) {
    const dispatcher = clients.http(c, 1)
    try {
      const token = c === 'off' ? undefined : await clients.tokens(c, 'demo-reader', 'a.r')
      const answer = await get(dispatcher, mesh.apiA, summaryHeaders(token))
      const parsed = JSON.parse(answer.body) as { products?: unknown }
      if (answer.status !== 200 || parsed.products === null || parsed.products === undefined) problems.push(`${c}: GET /summary answered ${answer.status}: ${answer.body.slice(0, 300)}`)
      bodies[c] = answer.body
      products.set(c, JSON.stringify(parsed.products))
      if (c !== 'off') {
        const refused = await get(dispatcher, mesh.apiA, summaryHeaders(undefined))
        if (refused.status !== 401) problems.push(`${c}: GET /summary without a token answered ${refused.status}, not 401`)
      }
    } finally {
      await dispatcher.close()
    }
    if (c === 'high') {
      const anonymous = new Agent({ connect: { rejectUnauthorized: false } })
      const answered = await get(anonymous, mesh.apiA, {}).then((answer) => answer.status, () => undefined)
      await anonymous.close()
      if (answered !== undefined) problems.push(`high: a TLS client without a certificate got an answer (${answered}) from api-a`)
    }
    problems.push(...(await checkGrpc(c, mesh, clients)))
  }
  for (const [c, list] of products) {
    if (list !== products.get('off')) problems.push(`${c}: GET /summary's products differ from off's: ${list} against ${String(products.get('off'))}`)
  }
  return { problems, bodies }
}

async function checkGrpc(c: MeshConfiguration, mesh: RunningMesh, clients: MeshClients): Promise<string[]> {
  const problems: string[] = []
  const token = c === 'off' ? undefined : await clients.tokens(c, GRPC_CALLER, 'sensor.read')
  const read = async (bearer: string | undefined) => {
    const client = grpcDemoClient(mesh.grpc, { credentials: clients.grpc(c), token: bearer === undefined ? undefined : () => bearer })
    try {
      return await new Promise<{ code: status; sensor?: string | undefined }>((resolve) => {
        client.sensors.GetReading({ sensor_id: BENCH_SENSOR }, { deadline: Date.now() + 5_000 }, (err, reading) => {
          resolve(err ? { code: err.code } : { code: status.OK, sensor: reading?.sensor_id })
        })
      })
    } finally {
      client.close()
    }
  }
  const answer = await read(token)
  if (answer.code !== status.OK || answer.sensor !== BENCH_SENSOR) problems.push(`${c}: GetReading answered ${status[answer.code]} (${String(answer.sensor)})`)
  if (c !== 'off') {
    const refused = await read(undefined)
    if (refused.code !== status.UNAUTHENTICATED) problems.push(`${c}: GetReading without a token answered ${status[refused.code]}, not UNAUTHENTICATED`)
  }
  return problems
}

async function get(dispatcher: Dispatcher, origin: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { statusCode, body } = await dispatcher.request({ origin, path: '/summary', method: 'GET', headers, headersTimeout: 10_000, bodyTimeout: 10_000 })
  return { status: statusCode, body: await body.text() }
}
