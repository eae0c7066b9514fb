import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'

/**
 * A Redis of the test's own (`redis-server` as a child process, on a free port, nothing saved),
 * to stop and start again: the machine's Redis on 6379 is shared and must stay up.
 */
export class RedisServer {
  port = 0
  #child: ChildProcess | undefined

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Starts (or starts again, on the same port) and waits until it answers PING. */
  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort()
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    this.#child = child
    const probe = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    probe.on('error', () => undefined)
    try {
      for (let attempt = 0; ; attempt += 1) {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
        try {
          await probe.connect()
          await probe.ping()
          return this
        } catch (err) {
          if (attempt > 100) throw err
          probe.disconnect()
          await sleep(50)
        }
      }
    } finally {
      probe.disconnect()
    }
  }

  /** Kills it (no goodbye to clients, as a crash) and waits for it to be gone. */
  async stop(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }
}

function freePort(): Promise<number> {
  const server = createServer()
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => {
        resolve(port)
      })
    })
  })
}
