import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { GatewayError } from '../errors.js'
import { gatewayConfigSchema, type GatewayConfig, type GatewayConfigInput } from './schema.js'
import { isLoopbackHost } from './url-checks.js'

/** Environment variables read by {@link loadConfig}, and the option each one sets. */
export const environmentVariables: Readonly<Record<string, readonly string[]>> = {
  MESHGUARD_GATEWAY_HOST: ['listen', 'host'],
  MESHGUARD_GATEWAY_PORT: ['listen', 'port'],
  MESHGUARD_GATEWAY_ISSUER: ['issuer'],
  MESHGUARD_GATEWAY_JWKS_URI: ['jwksUri'],
  MESHGUARD_GATEWAY_REVOCATION_EVENTS_URI: ['revocationEventsUri'],
  MESHGUARD_GATEWAY_CLIENT_ID: ['introspection', 'clientId'],
  MESHGUARD_GATEWAY_CLIENT_SECRET: ['introspection', 'clientSecret'],
  REDIS_URL: ['redis', 'url'],
  MESHGUARD_GATEWAY_LOG_LEVEL: ['log', 'level'],
}

export interface LoadConfigOptions {
  /** A YAML or JSON file; its values are overridden by the environment. */
  file?: string | undefined
  env?: NodeJS.ProcessEnv
  /** Highest precedence, e.g. command-line flags. */
  overrides?: Partial<GatewayConfigInput>
}

/**
 * Builds the configuration from defaults, a YAML or JSON file, the environment and overrides
 * (in rising precedence), validates it once and freezes it. Every problem is reported in one
 * {@link GatewayError} `ERR_CONFIG_INVALID`.
 *
 * @example
 * const config = loadConfig({ file: 'gateway.yaml', overrides: { listen: { port: 0 } } })
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<GatewayConfig> {
  const fromFile = options.file === undefined ? {} : readConfigFile(options.file)
  const fromEnv = readEnvironment(options.env ?? process.env)
  return parseConfig(deepMerge(deepMerge(fromFile, fromEnv), options.overrides ?? {}))
}

/**
 * Validates an already-assembled configuration object and freezes it.
 *
 * @example
 * const config = parseConfig({ issuer: 'https://auth.example.com', upstreams: { orders: { instances: ['https://orders:8443'] } }, routes: [{ name: 'orders', match: { pathPrefix: '/orders' }, upstream: 'orders', audience: 'orders' }] })
 */
export function parseConfig(input: unknown): Readonly<GatewayConfig> {
  const result = gatewayConfigSchema.safeParse(input)
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  - ${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    throw new GatewayError('ERR_CONFIG_INVALID', `invalid gateway configuration:\n${lines.join('\n')}`)
  }
  return deepFreeze(result.data)
}

/**
 * What is allowed but deserves a loud line in the log at start: a public listener without TLS,
 * metrics on a public listener, upstreams reached in clear off loopback.
 */
export function configWarnings(config: GatewayConfig): string[] {
  const warnings: string[] = []
  const publicListener = !isLoopbackHost(config.listen.host)
  if (publicListener && config.listen.tls === undefined) {
    warnings.push(`listening on ${config.listen.host} without TLS: bearer tokens arrive in clear unless a TLS terminator sits in front`)
  }
  if (publicListener && config.exposeMetrics) warnings.push(`metrics are served at /-/metrics on ${config.listen.host}, to anyone who can reach the gateway`)
  if (config.redis !== undefined) {
    const redis = new URL(config.redis.url)
    if (redis.protocol === 'redis:' && !isLoopbackHost(redis.hostname)) {
      warnings.push(`Redis at ${redis.hostname} is reached over plain redis://: rate-limit keys, pushed revocations and sealed phantom-token entries travel in clear, and revocations can be forged or dropped; use rediss://`)
    }
  }
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    if (upstream.allowPlainHttp) warnings.push(`upstream ${name} may be reached over plain http (allowPlainHttp): callers' tokens travel in clear`)
  }
  return warnings
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new GatewayError('ERR_CONFIG_INVALID', `cannot read configuration file ${file}: ${(err as Error).message}`, { cause: err })
  }
  let value: unknown
  try {
    // YAML 1.2 is a superset of JSON: one parser reads both.
    value = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 })
  } catch (err) {
    throw new GatewayError('ERR_CONFIG_INVALID', `configuration file ${file} is not valid YAML or JSON: ${(err as Error).message}`, { cause: err })
  }
  if (!isPlainObject(value)) throw new GatewayError('ERR_CONFIG_INVALID', `configuration file ${file} must hold an object at the top level`)
  return value
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
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
