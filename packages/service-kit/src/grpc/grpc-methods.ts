import { VerificationError } from '../errors.js'
import type { OperationPolicy } from '../authorization/authorize-request.js'

/** Who may call one gRPC method: exactly one of `scopes` (all required; `[]` for any valid token) or `public: true`. */
export interface GrpcMethodPolicy {
  scopes?: readonly string[]
  public?: true
  /** The delegation chain the caller's token must carry exactly, most recent actor first. */
  chain?: readonly string[]
}

/** The policy of the method a call names. */
export interface GrpcMethodDecision extends OperationPolicy {
  /** The full method path, e.g. `/shop.SensorService/Feed`. */
  path: string
}

/** A grpc-js service definition: method name → its `path`. */
type ServiceDefinition = Record<string, { path: string }>

const METHOD_PATH = /^\/[A-Za-z_][\w.]*\/[A-Za-z_]\w*$/

/**
 * The scopes each gRPC method needs, keyed by full method path. A method not listed is refused
 * (`ERR_ROUTE_UNKNOWN`, gRPC `UNIMPLEMENTED`): nothing is open by default.
 *
 * @example
 * const methods = new GrpcMethods({
 *   '/shop.SensorService/GetReading': { scopes: ['sensor.read'] },
 *   '/shop.SensorService/Feed': { scopes: ['sensor.read'] },
 *   '/grpc.health.v1.Health/Check': { public: true },
 * })
 * methods.assertCovers(SensorServiceService) // at start-up: every method has a policy
 */
export class GrpcMethods {
  readonly #methods = new Map<string, GrpcMethodDecision>()

  /** @throws TypeError naming every entry that is not acceptable. */
  constructor(policies: Readonly<Record<string, GrpcMethodPolicy>>) {
    const problems: string[] = []
    for (const [path, policy] of Object.entries(policies)) {
      const problem = checkPolicy(path, policy)
      if (problem !== undefined) {
        problems.push(problem)
        continue
      }
      const isPublic = policy.public === true
      this.#methods.set(path, {
        path,
        public: isPublic,
        alternatives: isPublic ? [] : [[...new Set(policy.scopes)]],
        chain: policy.chain === undefined ? undefined : [...policy.chain],
      })
    }
    if (problems.length > 0) throw new TypeError(`invalid gRPC method policies:\n${problems.join('\n')}`)
  }

  /** The policy of the method at `path`, or `ERR_ROUTE_UNKNOWN`. */
  match(path: string): GrpcMethodDecision {
    const decision = this.#methods.get(path)
    if (decision === undefined) throw new VerificationError('ERR_ROUTE_UNKNOWN', `${path} is not a method this service serves`)
    return decision
  }

  /**
   * Throws a `TypeError` listing every method of the services that has no policy, so a method
   * added to a `.proto` but not to the policy is found at start-up rather than refused in production.
   */
  assertCovers(...services: readonly ServiceDefinition[]): void {
    const missing = services.flatMap((service) => Object.values(service).map((method) => method.path)).filter((path) => !this.#methods.has(path))
    if (missing.length > 0) throw new TypeError(`no policy for gRPC methods: ${missing.join(', ')}`)
  }
}

function checkPolicy(path: string, raw: unknown): string | undefined {
  if (!METHOD_PATH.test(path)) return `${path}: a method is named by its full path, /package.Service/Method`
  if (typeof raw !== 'object' || raw === null) return `${path}: the policy must be an object`
  const policy = raw as Partial<Record<keyof GrpcMethodPolicy, unknown>>
  const strings = (value: unknown) => Array.isArray(value) && value.every((s) => typeof s === 'string' && s !== '')
  if ((policy.scopes === undefined) === (policy.public === undefined)) return `${path}: give exactly one of scopes and public: true`
  if (policy.public !== undefined && policy.public !== true) return `${path}: public must be true when given`
  if (policy.scopes !== undefined && !strings(policy.scopes)) return `${path}: scopes must be a list of scope names`
  if (policy.chain !== undefined && !(strings(policy.chain) && (policy.chain as unknown[]).length > 0)) return `${path}: chain must be a non-empty list of client ids`
  if (policy.public === true && policy.chain !== undefined) return `${path}: a public method cannot require a chain`
  return undefined
}
