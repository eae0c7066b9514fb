import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ZodType } from 'zod'
import * as errors from '../src/errors.js'
import { authServerConfigSchema, environmentVariables, meshguardErrorCodes, OAuthError } from '../src/index.js'

const docs = (name: string) => readFileSync(resolve(import.meta.dirname, '../../../docs', name), 'utf8')

/** Every exported OAuthError subclass, instantiated. */
function oauthErrors(): OAuthError[] {
  const exported: unknown[] = Object.values(errors)
  return exported
    .filter((value): value is new (description: string) => OAuthError => typeof value === 'function' && value.prototype instanceof OAuthError)
    .map((ErrorClass) => new ErrorClass('x'))
}

describe('the error catalogue (docs/errors.md)', () => {
  it('gives every OAuth error class a distinct RFC code, documented with its status', () => {
    const codes = oauthErrors().map((error) => error.error)
    expect(codes.length).toBeGreaterThanOrEqual(10)
    expect(new Set(codes).size).toBe(codes.length)
    const catalogue = docs('errors.md')
    for (const error of oauthErrors()) {
      expect(catalogue).toMatch(new RegExp(`^\\| \`${error.error}\` \\| ${error.status}`, 'm'))
    }
  })

  it('documents every MeshguardError code once', () => {
    expect(new Set(meshguardErrorCodes).size).toBe(meshguardErrorCodes.length)
    for (const code of meshguardErrorCodes) expect(docs('errors.md')).toContain(`| \`${code}\` |`)
  })
})

describe('the configuration reference (docs/configuration.md)', () => {
  /** Dotted paths of every option in the schema. */
  function optionPaths(schema: ZodType, prefix = ''): string[] {
    const def = (schema as unknown as { def: { type: string; innerType?: ZodType; shape?: Record<string, ZodType>; in?: ZodType } }).def
    if (def.type === 'object') return Object.entries(def.shape!).flatMap(([key, child]) => optionPaths(child, prefix ? `${prefix}.${key}` : key))
    if (def.innerType) return optionPaths(def.innerType, prefix)
    if (def.type === 'pipe' && def.in && (def.in as unknown as { def: { type: string } }).def.type === 'object') return optionPaths(def.in, prefix)
    return [prefix]
  }

  it('lists every option', () => {
    const paths = optionPaths(authServerConfigSchema)
    expect(paths).toContain('tokens.maxChainDepth')
    for (const path of paths) expect(docs('configuration.md')).toContain(`| \`${path}\` |`)
  })

  it('names every environment variable beside its option', () => {
    const reference = docs('configuration.md')
    for (const [variable, path] of Object.entries(environmentVariables)) {
      expect(reference).toContain(`| \`${path.join('.')}\` | \`${variable}\` |`)
    }
  })
})
