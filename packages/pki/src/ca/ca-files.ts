import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PkiError } from '../errors.js'

/** Where a CA keeps itself in its directory; keys are encrypted PKCS#8, readable by the owner only. */
export const caFileNames = {
  root: 'root.pem',
  rootKey: 'root.key.pem',
  intermediate: 'intermediate.pem',
  intermediateKey: 'intermediate.key.pem',
  /** The trust bundle services are given: the root certificate. */
  bundle: 'bundle.pem',
  /**
   * The root's CRL (RFC 5280 §5): it lists no intermediate, and is there because TLS stacks that
   * check CRLs check every certificate of the chain, the intermediate included.
   */
  rootCrl: 'root.crl.pem',
} as const

export type CaFile = keyof typeof caFileNames

export interface CaFiles {
  readonly dir: string
  path(file: CaFile): string
  read(file: CaFile): string
  exists(): boolean
  /** Writes every file at once: each to a temporary name first, then all renamed, so a crash leaves no half CA. */
  writeAll(contents: Record<CaFile, string>): void
}

/** The files of the CA in `dir`. */
export function caFiles(dir: string): CaFiles {
  const path = (file: CaFile) => join(dir, caFileNames[file])
  return {
    dir,
    path,
    read(file) {
      try {
        return readFileSync(path(file), 'utf8')
      } catch (err) {
        throw new PkiError('ERR_CA_MISSING', `no CA in ${dir}: ${caFileNames[file]} cannot be read (run meshguard ca init)`, { cause: err })
      }
    },
    exists: () => existsSync(path('root')),
    writeAll(contents) {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      const files = Object.keys(contents) as CaFile[]
      for (const file of files) {
        const secret = file === 'rootKey' || file === 'intermediateKey'
        writeFileSync(`${path(file)}.tmp`, contents[file], { mode: secret ? 0o600 : 0o644 })
      }
      // The root goes last: its presence is what marks the directory as holding a CA.
      for (const file of files.filter((f) => f !== 'root')) renameSync(`${path(file)}.tmp`, path(file))
      renameSync(`${path('root')}.tmp`, path('root'))
    },
  }
}
