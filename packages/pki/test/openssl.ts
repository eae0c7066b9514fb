import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Runs the openssl command (an independent implementation) in a scratch directory. */
export class OpenSsl {
  readonly dir = mkdtempSync(join(tmpdir(), 'meshguard-openssl-'))

  run(args: readonly string[], input?: string): string {
    return execFileSync('openssl', args, { cwd: this.dir, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] })
  }

  /** Whether the command succeeds, and what it printed (stdout and stderr). */
  attempt(args: readonly string[]): { ok: boolean; output: string } {
    try {
      return { ok: true, output: execFileSync('openssl', args, { cwd: this.dir, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }) }
    } catch (err) {
      const { stdout, stderr } = err as { stdout?: string; stderr?: string }
      return { ok: false, output: `${stdout ?? ''}${stderr ?? ''}` }
    }
  }

  /**
   * {@link OpenSsl.attempt} without blocking the event loop, for commands that talk to a server
   * in this process (`s_client`). Standard input is `input`, then closed.
   */
  talk(args: readonly string[], input = ''): Promise<{ ok: boolean; output: string }> {
    return new Promise((resolve) => {
      const child = execFile('openssl', args, { cwd: this.dir, encoding: 'utf8', timeout: 10_000 }, (error, stdout, stderr) => {
        resolve({ ok: error === null, output: `${stdout}${stderr}` })
      })
      child.stdin?.end(input)
    })
  }

  path(name: string): string {
    return join(this.dir, name)
  }

  write(name: string, content: string): string {
    writeFileSync(this.path(name), content)
    return this.path(name)
  }

  read(name: string): string {
    return readFileSync(this.path(name), 'utf8')
  }

  /**
   * A new key (`-newkey` spec such as `ec -pkeyopt ec_paramgen_curve:P-256` or `rsa:1024`) and a
   * CSR for it with the given `-addext` extensions; returns the CSR PEM.
   */
  csr(name: string, newKey: readonly string[], extensions: readonly string[] = []): string {
    this.run(['req', '-new', ...newKey, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/O=workload', ...extensions.flatMap((e) => ['-addext', e])])
    return this.read(`${name}.csr`)
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] as const
