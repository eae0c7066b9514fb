import { spawn } from 'node:child_process'
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { processTreeCpuMicros } from './process-cpu.js'
import type { ServerUsage } from './server-process.js'

/** nginx as the benchmark runs it. */
export interface NginxProxy {
  /** `http://127.0.0.1:<port>` */
  origin: string
  /** The master's and the worker's CPU time so far, from `/proc`; nginx counts no requests here. */
  sample(): Promise<ServerUsage>
  /** Lines of nginx's error log at level `error` or worse, so far. */
  errors(): string[]
  /** Stops nginx (fast shutdown), waits for it to exit, and removes its directory. */
  stop(): Promise<void>
}

export interface NginxOptions {
  /** The upstream's origin, `http://127.0.0.1:<port>`. */
  upstream: string
  /** Write an access log (the default `combined` format) to this file, buffered; unset, `access_log off`. */
  accessLogFile?: string | undefined
}

const MAX_OUTPUT_CHARS = 16_384

/** The nginx executable: on `PATH`, or in `/usr/sbin` (Debian's, which is not on every user's `PATH`); undefined when there is none. */
export function findNginx(): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']
  for (const directory of directories.filter((each) => each !== '')) {
    const candidate = join(directory, 'nginx')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** `nginx -v`: e.g. `nginx/1.22.1`. */
export async function nginxVersion(executable: string): Promise<string> {
  const { output } = await run(executable, ['-v'])
  return /nginx\/\S+/.exec(output)?.[0] ?? output.trim()
}

/**
 * Runs nginx in the foreground as a plain reverse proxy on 127.0.0.1, from a configuration
 * written to a temporary directory (see {@link nginxConfig}), and resolves once it accepts
 * connections.
 */
export async function startNginx(executable: string, options: NginxOptions): Promise<NginxProxy> {
  const directory = mkdtempSync(join(tmpdir(), 'meshguard-bench-nginx-'))
  // Started as root, the worker runs as nobody, and must reach its temporary directories.
  chmodSync(directory, 0o755)
  const port = await freePort()
  const configFile = join(directory, 'nginx.conf')
  const errorLog = join(directory, 'error.log')
  writeFileSync(configFile, nginxConfig({ directory, port, errorLog, ...options }))
  const child = spawn(executable, ['-p', `${directory}/`, '-c', configFile, '-e', errorLog, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const capture = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-MAX_OUTPUT_CHARS)
  }
  child.stdout.on('data', capture)
  child.stderr.on('data', capture)
  const exited = new Promise<void>((resolve) => child.once('close', () => { resolve() }))
  let spawnFailed = false
  child.once('error', (err) => {
    spawnFailed = true
    capture(Buffer.from(`${err.message}\n`))
  })
  const hasExited = () => spawnFailed || child.exitCode !== null || child.signalCode !== null
  // nginx outlives a parent that dies: make sure it does not.
  const killOnExit = () => child.kill('SIGTERM')
  process.once('exit', killOnExit)
  const errorLines = () => {
    try {
      return readFileSync(errorLog, 'utf8').split('\n').filter((line) => /\[(error|crit|alert|emerg)\]/.test(line))
    } catch {
      return []
    }
  }
  const failure = (what: string) => new Error(`nginx ${what}\n--- its output ---\n${output}${errorLines().join('\n')}`)
  const stop = async () => {
    process.off('exit', killOnExit)
    if (!hasExited()) {
      child.kill('SIGTERM')
      await exited
    }
    rmSync(directory, { recursive: true, force: true })
  }
  try {
    await waitForPort(port, hasExited, 10_000)
  } catch (err) {
    const error = failure((err as Error).message)
    await stop()
    throw error
  }
  return {
    origin: `http://127.0.0.1:${port}`,
    sample: () => {
      if (hasExited()) return Promise.reject(failure('exited early'))
      return Promise.resolve({ cpuMicros: processTreeCpuMicros(child.pid!), requests: 0, connections: 0 })
    },
    errors: errorLines,
    stop,
  }
}

/**
 * One worker, an `upstream` block keeping up to 64 idle keep-alive connections to the upstream
 * (the gateway's `connections` default), HTTP/1.1 upstream with `Connection` cleared and `Host`
 * the upstream's (nginx's default, as the gateway does), the forwarding headers a reverse-proxy
 * configuration usually sets (`X-Forwarded-For`, `-Proto`, `-Host`, and `X-Request-Id` from
 * `$request_id`, as the gateway adds), no connection closed for its request count on either
 * side, and nothing written outside `directory`.
 */
export function nginxConfig(options: NginxOptions & { directory: string; port: number; errorLog: string }): string {
  const { directory, port, errorLog, upstream, accessLogFile } = options
  const { host } = new URL(upstream)
  return `worker_processes 1;
pid ${join(directory, 'nginx.pid')};
error_log ${errorLog} warn;

events {
  worker_connections 1024;
}

http {
  ${accessLogFile === undefined ? 'access_log off;' : `access_log ${accessLogFile} combined buffer=64k flush=1s;`}
  client_body_temp_path ${join(directory, 'client_body')};
  proxy_temp_path ${join(directory, 'proxy')};
  fastcgi_temp_path ${join(directory, 'fastcgi')};
  uwsgi_temp_path ${join(directory, 'uwsgi')};
  scgi_temp_path ${join(directory, 'scgi')};
  keepalive_requests 1000000;

  upstream bench_upstream {
    server ${host};
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 4s;
  }

  server {
    listen 127.0.0.1:${port};

    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Request-Id $request_id;
    }
  }
}
`
}

/** A port that was free a moment ago: nginx cannot listen on port 0 and say which it got. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

/** Resolves once something accepts a connection on `port`; rejects if the process has exited first or time runs out. */
async function waitForPort(port: number, hasExited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (hasExited()) throw new Error('exited before it accepted connections')
    if (Date.now() > deadline) throw new Error(`did not accept connections within ${timeoutMs} ms`)
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => { resolve(false) })
    })
    if (accepted) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function run(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.once('error', reject)
    child.once('close', (code) => {
      resolve({ code, output })
    })
  })
}
