import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { PAGE_PATH, PAGE_REQUEST, PAGE_RESPONSE, SERVER_NAME, type MtlsFiles } from './mtls-credentials.js'
import { processCpuMicros } from './process-cpu.js'
import type { ServerUsage } from './server-process.js'

/** openssl s_server, as the benchmark runs it. */
export interface OpensslServer {
  port: number
  /** The process's CPU time so far (from `/proc`); it counts neither requests nor connections. */
  sample(): Promise<ServerUsage>
  stop(): Promise<void>
}

/** What an openssl s_time run measured. */
export interface STimeResult {
  /** Connections s_time completed. */
  connections: number
  /** Of which resumed a session (s_time prints `r` for those, `*` for full handshakes). */
  resumed: number
  /** Wall-clock time of the run, s_time's start-up included. */
  seconds: number
  perSecond: number
  /** Response bytes read: the page on every connection when nothing failed. */
  bytesRead: number
  /** What went wrong, when something did: a non-zero exit, or connections without the page. */
  failure?: string | undefined
}

const MAX_OUTPUT_CHARS = 16_384

/**
 * Starts `openssl s_server` on 127.0.0.1 (port 0) with the benchmark's server certificate and
 * intermediate, requiring a client certificate that verifies against the trust bundle
 * (`-Verify 1 -verify_return_error`), and serving the page of `files.wwwDir` (`-WWW`). It picks
 * its own TLS version, cipher and key-exchange group, as Node's server does.
 */
export function startOpensslServer(files: MtlsFiles): Promise<OpensslServer> {
  const child = spawn(
    'openssl',
    ['s_server', '-accept', '127.0.0.1:0', '-cert', files.server.certificate, '-cert_chain', files.intermediate, '-key', files.server.privateKey,
      '-CAfile', files.trustBundle, '-Verify', '1', '-verify_return_error', '-verify_quiet', '-WWW'],
    { cwd: files.wwwDir, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  const capture = (chunk: Buffer) => {
    output = (output + chunk.toString('latin1')).slice(-MAX_OUTPUT_CHARS)
  }
  child.stderr.on('data', capture)
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
  const failure = (what: string) => new Error(`openssl s_server ${what}\n--- its output ---\n${output}`)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill()
      reject(failure('did not report the port it listens on within 10 s'))
    }, 10_000)
    void exited.then(() => {
      clearTimeout(timer)
      reject(failure(`exited with ${child.exitCode ?? child.signalCode}`))
    })
    child.stdout.on('data', (chunk: Buffer) => {
      capture(chunk)
      const port = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(output)?.[1]
      if (port === undefined) return
      // From here on it prints a line per page served, which nothing reads.
      child.stdout.removeAllListeners('data').resume()
      clearTimeout(timer)
      resolve({
        port: Number(port),
        sample: () => Promise.resolve({ cpuMicros: processCpuMicros(child.pid!), requests: 0, connections: 0 }),
        stop: async () => {
          child.kill()
          await exited
        },
      })
    })
  })
}

/**
 * Runs `openssl s_time` against `port` for `seconds`, TLS 1.3, presenting the client
 * certificate, and requesting the page on every connection: `-new` makes every handshake a full
 * one, `-reuse` resumes the session of the connection before. s_time connects one at a time.
 */
export async function runSTime(files: MtlsFiles, port: number, mode: 'full' | 'resumed', seconds: number): Promise<STimeResult> {
  const args = ['s_time', '-connect', `127.0.0.1:${port}`, '-cert', files.client.certificate, '-key', files.client.privateKey,
    '-CAfile', files.chainStore, '-tls1_3', mode === 'full' ? '-new' : '-reuse', '-time', String(seconds), '-www', PAGE_PATH]
  const start = performance.now()
  const { code, stdout, stderr } = await run('openssl', args)
  const elapsed = (performance.now() - start) / 1000
  const summary = /(\d+) connections in [\d.]+s; [\d.]+ connections\/user sec, bytes read (\d+)/.exec(stdout)
  const connections = Number(summary?.[1] ?? 0)
  const bytesRead = Number(summary?.[2] ?? 0)
  // The progress marks come before the summary, after the "Collecting ..." line.
  const marks = stdout.slice(0, summary?.index ?? 0).split('\n').filter((line) => /^[*r]+$/.test(line.trim())).join('')
  const resumed = marks.replaceAll('*', '').length
  let failure: string | undefined
  if (code !== 0 || summary === null) failure = `openssl s_time exited with ${code}: ${stderr.slice(-2000) || stdout.slice(-2000)}`
  else if (bytesRead !== connections * PAGE_RESPONSE.length) failure = `openssl s_time read ${bytesRead} bytes over ${connections} connections, not the page on each (a handshake refused?)`
  return { connections, resumed, seconds: elapsed, perSecond: connections / elapsed, bytesRead, failure }
}

/**
 * One connection by `openssl s_client` presenting the client certificate (and its chain),
 * verifying the server's chain against the trust bundle and its name, requesting the page: an
 * independent check that a server speaks mutual TLS with these certificates. Undefined when it
 * worked, else what went wrong.
 */
export async function checkWithSClient(files: MtlsFiles, port: number): Promise<string | undefined> {
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', SERVER_NAME, '-verify_hostname', SERVER_NAME, '-verify_return_error',
    '-CAfile', files.trustBundle, '-cert', files.client.certificate, '-cert_chain', files.intermediate, '-key', files.client.privateKey,
    '-tls1_3', '-ign_eof']
  const { code, stdout, stderr } = await run('openssl', args, PAGE_REQUEST)
  if (code !== 0) return `openssl s_client exited with ${code}: ${stderr.slice(-1000)}`
  if (!stdout.includes('Verify return code: 0 (ok)')) return `openssl s_client did not verify the server: ${stdout.slice(-1000)}`
  if (!stdout.includes(PAGE_RESPONSE)) return `openssl s_client did not get the page: ${stdout.slice(-1000)}`
  return undefined
}

function run(command: string, args: readonly string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('latin1').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('latin1').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-MAX_OUTPUT_CHARS)))
    child.once('error', reject)
    child.once('close', (code) => {
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(input)
  })
}
