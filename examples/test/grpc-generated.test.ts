import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../scripts/generate-proto-types.mjs', import.meta.url))
const committed = fileURLToPath(new URL('../src/grpc/generated/', import.meta.url))

/** Every file under `dir`, by path relative to it, with its contents. */
function tree(dir: string): Record<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
  return Object.fromEntries(files.map((entry) => join(entry.parentPath, entry.name)).sort().map((path) => [relative(dir, path), readFileSync(path, 'utf8')]))
}

describe('the generated gRPC types', () => {
  const outDirs: string[] = []
  const generate = () => {
    const outDir = mkdtempSync(join(tmpdir(), 'meshguard-proto-types-'))
    outDirs.push(outDir)
    execFileSync(process.execPath, [script, '--out-dir', outDir], { stdio: 'pipe' })
    return tree(outDir)
  }
  afterAll(() => {
    for (const dir of outDirs) rmSync(dir, { recursive: true, force: true })
  })

  it('are what proto/ generates today (run `npm run generate -w @meshguard/examples` after changing a .proto; never edit them by hand)', () => {
    const fresh = generate()
    expect(Object.keys(fresh)).toContain('loader-options.ts')
    expect(Object.keys(fresh)).toContain(join('meshguard', 'demo', 'SensorService.ts'))
    expect(tree(committed)).toEqual(fresh)
  })

  it('come out the same on every run', () => {
    expect(generate()).toEqual(generate())
  })
})
