import { InvalidRequest } from '../errors.js'

/** RFC 8693 §2.1 and RFC 8707 §2: the parameters that may appear more than once. */
const MULTI_VALUED = new Set(['resource', 'audience'])

/**
 * A parsed `application/x-www-form-urlencoded` body. RFC 6749 §3.1: a parameter sent twice is
 * an error, and one sent without a value is treated as omitted.
 */
export class FormParams {
  readonly #values: Map<string, string[]>

  private constructor(values: Map<string, string[]>) {
    this.#values = values
  }

  static parse(body: string): FormParams {
    const values = new Map<string, string[]>()
    for (const [name, value] of new URLSearchParams(body)) {
      const existing = values.get(name)
      if (existing && !MULTI_VALUED.has(name)) throw new InvalidRequest(`parameter "${name}" is included more than once`)
      if (existing) existing.push(value)
      else values.set(name, [value])
    }
    for (const [name, list] of values) {
      const kept = list.filter((value) => value !== '')
      if (kept.length === 0) values.delete(name)
      else values.set(name, kept)
    }
    return new FormParams(values)
  }

  static empty(): FormParams {
    return new FormParams(new Map())
  }

  get(name: string): string | undefined {
    return this.#values.get(name)?.[0]
  }

  getAll(name: string): string[] {
    return this.#values.get(name) ?? []
  }

  has(name: string): boolean {
    return this.#values.has(name)
  }

  /** The value, or `invalid_request` naming the missing parameter. */
  require(name: string): string {
    const value = this.get(name)
    if (value === undefined) throw new InvalidRequest(`missing required parameter "${name}"`)
    return value
  }
}

/**
 * Fastify's content-type parser for `application/x-www-form-urlencoded` bodies, read by the
 * rules of {@link FormParams.parse}: every route that takes a form registers this one.
 *
 * @example
 * app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseFormBody)
 */
export function parseFormBody(_request: unknown, body: string | Buffer, parsed: (err: Error | null, body?: FormParams) => void): void {
  try {
    parsed(null, FormParams.parse(body as string))
  } catch (err) {
    parsed(err as Error, undefined)
  }
}
