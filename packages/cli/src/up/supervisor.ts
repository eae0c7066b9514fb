import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface ChildSpec {
  /** Shown before each of its log lines and in reports. */
  name: string
  /** The Node.js script and its arguments. */
  args: string[]
  env?: NodeJS.ProcessEnv | undefined
  /** A line of its output that means it is ready; without one, it is ready once spawned. */
  readyWhen?: RegExp | undefined
}

export interface SupervisorOptions {
  /** Where the children's lines and the supervisor's own reports go. */
  log: (line: string) => void
  /** First restart delay; doubles per crash in a row, up to 30 s. */
  restartDelayMs?: number | undefined
  /** A child that stays up this long is considered healthy again. */
  healthyAfterMs?: number | undefined
  /** Called whenever a child (re)starts, with every child's process id. */
  onSpawn?: ((pids: Record<string, number | undefined>) => void) | undefined
}

interface Supervised {
  spec: ChildSpec
  process: ChildProcess | undefined
  crashes: number
  startedAt: number
  timer: NodeJS.Timeout | undefined
}

/**
 * Runs Node.js children, prefixes their output with their name, restarts one that exits
 * unexpectedly (reporting it, with a growing delay), and stops them all on request: SIGTERM,
 * then SIGKILL after a grace period.
 */
export class Supervisor {
  readonly #children = new Map<string, Supervised>()
  readonly #options: Required<Omit<SupervisorOptions, 'onSpawn'>> & Pick<SupervisorOptions, 'onSpawn'>
  #stopping = false

  constructor(options: SupervisorOptions) {
    this.#options = { restartDelayMs: 500, healthyAfterMs: 10_000, ...options }
  }

  /** Starts a child and resolves once it is ready; rejects if it exits first. */
  start(spec: ChildSpec, readyTimeoutMs = 30_000): Promise<void> {
    const supervised: Supervised = { spec, process: undefined, crashes: 0, startedAt: 0, timer: undefined }
    this.#children.set(spec.name, supervised)
    return this.#spawn(supervised, readyTimeoutMs)
  }

  /** The children's process ids by name, for tests and reports. */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.#children].map(([name, child]) => [name, child.process?.pid]))
  }

  async stopAll(graceMs = 10_000): Promise<void> {
    this.#stopping = true
    const exits = [...this.#children.values()].reverse().map(async (child) => {
      clearTimeout(child.timer)
      const running = child.process
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
      const exited = new Promise<void>((resolve) => {
        running.once('exit', () => {
          resolve()
        })
      })
      running.kill('SIGTERM')
      const kill = setTimeout(() => {
        running.kill('SIGKILL')
      }, graceMs)
      await exited
      clearTimeout(kill)
    })
    await Promise.all(exits)
  }

  #spawn(supervised: Supervised, readyTimeoutMs: number): Promise<void> {
    const { spec } = supervised
    const child = spawn(process.execPath, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    supervised.process = child
    supervised.startedAt = Date.now()
    this.#options.onSpawn?.(this.pids())
    return new Promise<void>((resolve, reject) => {
      let ready = spec.readyWhen === undefined
      if (ready) resolve()
      const timeout = setTimeout(() => {
        if (!ready) reject(new Error(`${spec.name} did not become ready within ${readyTimeoutMs / 1000} s`))
      }, readyTimeoutMs)
      const recent: string[] = []
      const onLine = (line: string) => {
        recent.push(line)
        if (recent.length > 10) recent.shift()
        this.#options.log(`[${spec.name}] ${line}`)
        if (!ready && spec.readyWhen?.test(line)) {
          ready = true
          clearTimeout(timeout)
          resolve()
        }
      }
      createInterface({ input: child.stdout }).on('line', onLine)
      createInterface({ input: child.stderr }).on('line', onLine)
      child.once('exit', (code, signal) => {
        clearTimeout(timeout)
        if (this.#stopping) return
        const how = signal === null ? `exit code ${code ?? '?'}` : `signal ${signal}`
        if (!ready) {
          reject(new Error(`${spec.name} exited before it was ready (${how}); its last lines:\n${recent.join('\n')}`))
          return
        }
        this.#restart(supervised, how)
      })
    })
  }

  #restart(supervised: Supervised, how: string): void {
    const { spec } = supervised
    if (Date.now() - supervised.startedAt >= this.#options.healthyAfterMs) supervised.crashes = 0
    const delay = Math.min(30_000, this.#options.restartDelayMs * 2 ** supervised.crashes)
    supervised.crashes += 1
    this.#options.log(`meshguard: ${spec.name} stopped unexpectedly (${how}); restarting in ${delay} ms`)
    supervised.timer = setTimeout(() => {
      this.#spawn(supervised, 30_000).then(
        () => {
          this.#options.log(`meshguard: ${spec.name} restarted`)
        },
        (err: unknown) => {
          if (!this.#stopping) this.#restart(supervised, (err as Error).message)
        },
      )
    }, delay)
  }
}
