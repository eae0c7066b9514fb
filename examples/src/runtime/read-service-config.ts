import { readFile } from 'node:fs/promises'
import type { ServiceRuntimeConfig } from './service-config.js'

const REQUIRED_STRINGS = ['name', 'tier', 'host', 'issuer', 'jwksUri', 'revocationEventsUri', 'tokenEndpoint'] as const
const OPTIONAL_STRINGS = ['clientSecret', 'spiffeId', 'auditUri', 'authServerSpiffeId'] as const

/**
 * Reads the configuration `meshguard up` wrote for one service, checking its shape (every problem
 * reported at once); whether it suits its tier is {@link assertTierProfile}'s to say.
 *
 * @throws Error naming the file and every problem.
 */
export async function readServiceConfig(file: string): Promise<ServiceRuntimeConfig> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new Error(`${file}: not a readable JSON file: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  const problems = shapeProblems(value)
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`)
  return Object.freeze(value as ServiceRuntimeConfig)
}

function shapeProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['not a JSON object']
  const config = value as Record<string, unknown>
  const problems: string[] = []
  for (const key of REQUIRED_STRINGS) if (typeof config[key] !== 'string' || config[key] === '') problems.push(`${key} must be a non-empty string`)
  for (const key of OPTIONAL_STRINGS) if (config[key] !== undefined && typeof config[key] !== 'string') problems.push(`${key} must be a string`)
  if (!Number.isInteger(config.port) || (config.port as number) < 0 || (config.port as number) > 65535) problems.push('port must be an integer from 0 to 65535')
  const { tls, peers, allowedCallers } = config
  if (tls !== undefined) {
    const files = tls as Record<string, unknown> | null
    if (typeof files !== 'object' || files === null || !['certFile', 'keyFile', 'caFile'].every((key) => typeof files[key] === 'string')) {
      problems.push('tls must be { certFile, keyFile, caFile }, each a path')
    }
  }
  if (typeof peers !== 'object' || peers === null || Array.isArray(peers)) problems.push('peers must be an object of { url, spiffeId? } by service name')
  else {
    for (const [name, peer] of Object.entries(peers as Record<string, unknown>)) {
      const { url, spiffeId } = (peer ?? {}) as Record<string, unknown>
      if (typeof url !== 'string' || (spiffeId !== undefined && typeof spiffeId !== 'string')) problems.push(`peers.${name} must be { url, spiffeId? }`)
    }
  }
  if (allowedCallers !== undefined && !(Array.isArray(allowedCallers) && allowedCallers.every((id) => typeof id === 'string'))) {
    problems.push('allowedCallers must be a list of SPIFFE IDs')
  }
  return problems
}
