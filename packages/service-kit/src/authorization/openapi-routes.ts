import { VerificationError } from '../errors.js'

/** The parts of an OpenAPI 3 document that authorization reads. */
export interface OpenApiDocument {
  openapi: string
  paths: Record<string, Record<string, unknown>>
  security?: SecurityRequirement[]
}

/** OpenAPI 3 §4.8.30: scheme name → scopes; the schemes of one requirement must all hold. */
export type SecurityRequirement = Record<string, string[]>

export interface RouteDecision {
  /** The template from the document, e.g. `/orders/{id}`. */
  path: string
  method: string
  operationId: string | undefined
  /** Explicitly public: `security: []` or `x-meshguard-public: true` on the operation itself. */
  public: boolean
  /** Any one of these scope sets suffices; `[[]]` means any valid token. */
  alternatives: string[][]
  /**
   * `x-meshguard-chain`: the delegation chain the caller's token must carry exactly, most recent
   * actor first (`["order-service", "cart-service"]`: order-service acting for cart-service).
   */
  chain: string[] | undefined
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

/** Path spellings that routers resolve differently from one another: refused, never normalised. */
// eslint-disable-next-line no-control-regex -- control characters in a path are refused on purpose
const AMBIGUOUS = /[;\\\0-\x1f\x7f]|\/\/|%(2e|2f|5c|00|3b)/i

const MATCHED_PATHS_PER_METHOD = 4096

interface CompiledRoute {
  /** Literal segments, `undefined` where the template has a `{parameter}`. */
  segments: Array<string | undefined>
  /** How many literal segments: concrete paths are tried before templated ones. */
  literals: number
  methods: Map<string, RouteDecision>
}

/**
 * The service's routes and the scopes each needs, from its OpenAPI document.
 *
 * `match` takes the method and raw path of a request (no query) and either names the operation
 * or refuses: a path spelt ambiguously (`%2e%2e`, `//`, `;param`, `..;/`, backslashes, encoded
 * slashes, dot segments) is `ERR_PATH_INVALID`; one the document does not list, in that exact
 * case and without a trailing slash it does not have, is `ERR_ROUTE_UNKNOWN`. Only the request's
 * own method counts: override headers are never read.
 *
 * @example
 * const routes = new OpenApiRoutes(JSON.parse(readFileSync('openapi.json', 'utf8')))
 * const { alternatives } = routes.match('GET', '/orders/42')
 */
export class OpenApiRoutes {
  readonly #routes: CompiledRoute[]
  /** Paths already matched, by method: only successful matches, which depend on nothing else. */
  readonly #matched = new Map<string, Map<string, RouteDecision>>()

  constructor(document: OpenApiDocument) {
    if (typeof document !== 'object' || typeof document.openapi !== 'string' || !document.openapi.startsWith('3.')) {
      throw new TypeError('not an OpenAPI 3 document: "openapi" must be 3.x')
    }
    if (typeof document.paths !== 'object') throw new TypeError('the OpenAPI document has no "paths"')
    const fallback = document.security?.length ? document.security : [{}]
    this.#routes = Object.entries(document.paths)
      .map(([path, item]) => compile(path, item, fallback))
      .sort((a, b) => b.literals - a.literals)
  }

  match(method: string, rawPath: string): RouteDecision {
    const known = this.#matched.get(method)?.get(rawPath)
    if (known !== undefined) return known
    const decision = this.#match(method, rawPath)
    let paths = this.#matched.get(method)
    if (paths === undefined) {
      paths = new Map<string, RouteDecision>()
      this.#matched.set(method, paths)
    }
    // Bounded: a flood of distinct paths (/orders/1, /orders/2, ...) starts it afresh.
    if (paths.size >= MATCHED_PATHS_PER_METHOD) paths.clear()
    paths.set(rawPath, decision)
    return decision
  }

  #match(method: string, rawPath: string): RouteDecision {
    if (!rawPath.startsWith('/') || AMBIGUOUS.test(rawPath)) throw new VerificationError('ERR_PATH_INVALID', 'the request path is ambiguous')
    let segments: string[]
    try {
      segments = rawPath.slice(1).split('/').map(decodeURIComponent)
    } catch {
      throw new VerificationError('ERR_PATH_INVALID', 'the request path is not valid percent-encoding')
    }
    if (segments.some((segment) => segment === '.' || segment === '..')) throw new VerificationError('ERR_PATH_INVALID', 'the request path has dot segments')
    const verb = method.toLowerCase()
    for (const route of this.#routes) {
      if (route.segments.length !== segments.length) continue
      if (!route.segments.every((literal, i) => (literal === undefined ? segments[i] !== '' : literal === segments[i]))) continue
      const decision = route.methods.get(verb)
      if (decision) return decision
    }
    throw new VerificationError('ERR_ROUTE_UNKNOWN', `${method} ${rawPath} is not an operation of this service`)
  }
}

function compile(path: string, item: Record<string, unknown>, fallback: SecurityRequirement[]): CompiledRoute {
  if (!path.startsWith('/')) throw new TypeError(`path "${path}" must start with /`)
  const segments = path.slice(1).split('/').map((segment) => (/^\{[^{}]+\}$/.test(segment) ? undefined : segment))
  const methods = new Map<string, RouteDecision>()
  for (const [method, operation] of Object.entries(item)) {
    if (!METHODS.has(method)) continue
    const op = operation as { operationId?: unknown; security?: unknown; 'x-meshguard-public'?: unknown; 'x-meshguard-chain'?: unknown }
    const chain = op['x-meshguard-chain']
    if (chain !== undefined && !(Array.isArray(chain) && chain.length > 0 && chain.every((s) => typeof s === 'string'))) {
      throw new TypeError(`${method.toUpperCase()} ${path}: x-meshguard-chain must be a non-empty list of client ids`)
    }
    const security = op.security === undefined ? fallback : checkSecurity(op.security, `${method.toUpperCase()} ${path}`)
    const isPublic = op['x-meshguard-public'] === true || (Array.isArray(op.security) && op.security.length === 0)
    methods.set(method, {
      path,
      method: method.toUpperCase(),
      operationId: typeof op.operationId === 'string' ? op.operationId : undefined,
      public: isPublic,
      alternatives: isPublic ? [] : security.map((requirement) => [...new Set(Object.values(requirement).flat())]),
      chain,
    })
  }
  return { segments, literals: segments.filter((s) => s !== undefined).length, methods }
}

function checkSecurity(security: unknown, where: string): SecurityRequirement[] {
  const valid =
    Array.isArray(security) &&
    security.every(
      (requirement: unknown) =>
        typeof requirement === 'object' &&
        requirement !== null &&
        Object.values(requirement).every((scopes: unknown) => Array.isArray(scopes) && scopes.every((s) => typeof s === 'string')),
    )
  if (!valid) throw new TypeError(`${where}: security must be a list of {scheme: [scopes]} requirements`)
  return security as SecurityRequirement[]
}
