import { readFileSync } from 'node:fs'
import { MeshguardError } from '../errors.js'
import { authServerConfigSchema, type AuthServerConfig, type AuthServerConfigInput } from './schema.js'

/** Environment variables read by {@link loadConfig}, and the option each one sets. */
export const environmentVariables: Readonly<Record<string, readonly string[]>> = {
  MESHGUARD_ISSUER: ['issuer'],
  MESHGUARD_HOST: ['host'],
  MESHGUARD_PORT: ['port'],
  MESHGUARD_DATA_DIR: ['dataDir'],
  DATABASE_URL: ['databaseUrl'],
  MESHGUARD_KEY_ENCRYPTION_KEY: ['keyEncryptionKey'],
  MESHGUARD_SIGNING_ALG: ['signing', 'algorithm'],
  MESHGUARD_KEY_ROTATION_INTERVAL: ['signing', 'rotationIntervalSec'],
  MESHGUARD_ACCESS_TOKEN_TTL: ['tokens', 'accessTokenTtlSec'],
  MESHGUARD_MAX_CHAIN_DEPTH: ['tokens', 'maxChainDepth'],
  MESHGUARD_MTLS_PORT: ['mtls', 'port'],
  MESHGUARD_MTLS_HOST: ['mtls', 'host'],
  MESHGUARD_MTLS_ORIGIN: ['mtls', 'origin'],
  MESHGUARD_MTLS_CERT_FILE: ['mtls', 'certFile'],
  MESHGUARD_MTLS_KEY_FILE: ['mtls', 'keyFile'],
  MESHGUARD_MTLS_CA_FILE: ['mtls', 'caFile'],
  MESHGUARD_MTLS_CRL_FILE: ['mtls', 'crlFile'],
  REDIS_URL: ['redis', 'url'],
  MESHGUARD_LOG_LEVEL: ['log', 'level'],
}

export interface LoadConfigOptions {
  /** A JSON file; its values are overridden by the environment. */
  file?: string | undefined
  env?: NodeJS.ProcessEnv
  /** Highest precedence, e.g. command-line flags. */
  overrides?: AuthServerConfigInput
}

/**
 * Builds the configuration from defaults, a file, the environment and overrides (in rising
 * precedence), validates it once and freezes it. Every problem is reported in one error.
 *
 * @example
 * const config = loadConfig({ file: 'meshguard.json', overrides: { port: 0 } })
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<AuthServerConfig> {
  const fromFile = options.file ? readJsonFile(options.file) : {}
  const fromEnv = readEnvironment(options.env ?? process.env)
  const merged = deepMerge(deepMerge(fromFile, fromEnv), options.overrides ?? {})
  return parseConfig(merged)
}

/** Validates an already-assembled configuration object. */
export function parseConfig(input: unknown): Readonly<AuthServerConfig> {
  const result = authServerConfigSchema.safeParse(input)
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(root)'
      return `  - ${where}: ${issue.message}`
    })
    throw new MeshguardError('ERR_CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`)
  }
  return deepFreeze(result.data)
}

function readJsonFile(file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new MeshguardError('ERR_CONFIG_INVALID', `cannot read configuration file ${file}: ${(err as Error).message}`)
  }
  try {
    const value: unknown = JSON.parse(text)
    if (!isPlainObject(value)) throw new Error('the top level must be an object')
    return value
  } catch (err) {
    throw new MeshguardError('ERR_CONFIG_INVALID', `configuration file ${file} is not valid JSON: ${(err as Error).message}`)
  }
}

function readEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, path] of Object.entries(environmentVariables)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    let target = out
    for (const key of path.slice(0, -1)) {
      target[key] ??= {}
      target = target[key] as Record<string, unknown>
    }
    target[path[path.length - 1]!] = value
  }
  return out
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue
    const current = out[key]
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value
  }
  return out
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (isPlainObject(value)) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
