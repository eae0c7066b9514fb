import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ZodType } from 'zod'
import { environmentVariables, GatewayError, gatewayConfigSchema, gatewayErrorCodes, gatewayRefusal } from '../src/index.js'

const docs = (name: string) => readFileSync(resolve(import.meta.dirname, '../../../docs', name), 'utf8')

/** Dotted paths of every option in the schema: `<name>` for a map's keys, `[]` for a list's items. */
function optionPaths(schema: ZodType, prefix = ''): string[] {
  const def = (schema as unknown as { def: Record<string, unknown> & { type: string } }).def
  const child = (key: string) => def[key] as ZodType
  if (def.type === 'object') return Object.entries(def.shape as Record<string, ZodType>).flatMap(([key, value]) => optionPaths(value, prefix ? `${prefix}.${key}` : key))
  if (def.innerType) return optionPaths(child('innerType'), prefix)
  if (def.type === 'pipe') return optionPaths(child('in'), prefix)
  if (def.type === 'record') return optionPaths(child('valueType'), `${prefix}.<name>`)
  if (def.type === 'array') return optionPaths(child('element'), `${prefix}[]`)
  if (def.type === 'union') return (def.options as ZodType[]).flatMap((option) => optionPaths(option, prefix))
  return [prefix]
}

describe('the gateway in the configuration reference (docs/configuration.md)', () => {
  const paths = [...new Set(optionPaths(gatewayConfigSchema).map((path) => path.replace(/\[\]$/, '')))]

  it('lists every option', () => {
    expect(paths).toContain('routes[].rateLimit.perIp.burst')
    for (const path of paths) expect(docs('configuration.md'), path).toContain(`| \`${path}\` |`)
  })

  it('names every environment variable beside its option', () => {
    for (const [variable, path] of Object.entries(environmentVariables)) {
      expect(docs('configuration.md')).toContain(`| \`${path.join('.')}\` | \`${variable}\` |`)
    }
  })
})

describe('the gateway in the error catalogue (docs/errors.md)', () => {
  it('documents every code once, with the status and error it is answered with', () => {
    expect(new Set(gatewayErrorCodes).size).toBe(gatewayErrorCodes.length)
    for (const code of gatewayErrorCodes) {
      const { status, body } = gatewayRefusal(new GatewayError(code, 'x'))
      const row = `| \`${code}\` | ${status} | \`${body.error}\` |`
      expect(docs('errors.md').split(row).length - 1, row).toBe(1)
    }
  })
})
