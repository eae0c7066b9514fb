import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/** One static file of the console, named after its content so it can be cached for good. */
export interface ConsoleAsset {
  /** `console.<hash>.js`: what the shell links to. */
  name: string
  contentType: string
  body: Buffer
}

export interface ConsoleAssets {
  script: ConsoleAsset
  style: ConsoleAsset
}

/**
 * The folder the files are read from. They are not compiled, so `src/console/static/` holds
 * them for the TypeScript sources and the build alike (`dist/console/` is as deep as
 * `src/console/`), and the package ships that folder.
 */
const STATIC_DIR = resolve(import.meta.dirname, '../../src/console/static')

let loaded: ConsoleAssets | undefined

/** The console's script and stylesheet, read once; throws at start-up when they are missing. */
export function consoleAssets(): ConsoleAssets {
  loaded ??= {
    script: asset('console.js', 'text/javascript; charset=utf-8'),
    style: asset('console.css', 'text/css; charset=utf-8'),
  }
  return loaded
}

function asset(file: string, contentType: string): ConsoleAsset {
  const body = readFileSync(resolve(STATIC_DIR, file))
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 12)
  const dot = file.lastIndexOf('.')
  return { name: `${file.slice(0, dot)}.${hash}${file.slice(dot)}`, contentType, body }
}
