import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** What a benchmarked server tells the load generator once it listens on loopback. */
export interface BenchTarget {
  tokenUrl: string
  introspectionUrl: string
  /** `Authorization` header carrying the registered client's credentials (client_secret_basic). */
  authorization: string
  /** Form body of a client_credentials request for the server's JWT access token. */
  tokenRequest: string
  /** Form body of a request for an opaque token, offered by a server that will not introspect its JWTs. */
  opaqueTokenRequest?: string | undefined
}

/** A server process's running totals since it started. */
export interface ServerUsage {
  /** User plus system CPU time of the whole process (`process.cpuUsage()`), microseconds. */
  cpuMicros: number
  /** Requests received, when the entry file counts them (see {@link serveBench}); otherwise 0. */
  requests: number
  /** Connections accepted (TLS sessions, for a TLS server), when the entry file counts them; otherwise 0. */
  connections: number
}

/** A server running in a child process; `T` is what its entry file reports once it listens. */
export interface ServerProcess<T = BenchTarget> {
  readonly target: T
  /** The child's {@link ServerUsage} now; subtract two samples to cost a run. */
  sample(): Promise<ServerUsage>
  /** Sends the child a question its entry file answers (see {@link ServeBenchOptions.answer}) and resolves to the answer. */
  ask<R>(question: object): Promise<R>
  /** Asks the server to close and waits for its process to exit. */
  stop(): Promise<void>
}

export interface ServerProcessOptions {
  /** Arguments for the entry file (`process.argv.slice(2)` in the child). */
  args?: readonly string[]
  /** Node options for the child, e.g. `--cpu-prof`. */
  execArgv?: readonly string[]
  startTimeoutMs?: number
  stopTimeoutMs?: number
}

export interface ServeBenchOptions {
  /** Requests received so far; the server counts them however costs it least. */
  requests?: () => number
  /** Connections accepted so far. */
  connections?: () => number
  /** Answers the parent's {@link ServerProcess.ask}, e.g. by minting single-use credentials for the next run. */
  answer?: (question: unknown) => Promise<unknown>
}

interface ReadyMessage {
  type: 'ready'
  target: unknown
}

interface StopMessage {
  type: 'stop'
}

interface SampleMessage {
  type: 'sample'
}

interface UsageMessage extends ServerUsage {
  type: 'usage'
}

interface AskMessage {
  type: 'ask'
  id: number
  question: object
}

type AnswerMessage = { type: 'answer'; id: number; answer: unknown } | { type: 'answer'; id: number; error: string }

/** Kept so a server that fails can say why; its output is otherwise discarded. */
const MAX_OUTPUT_CHARS = 16_384

/**
 * Forks a server entry file (one that calls {@link serveBench}) and resolves once it reports
 * the address it listens on. The child's stdout and stderr are captured, not shown, unless it fails.
 *
 * @example
 * const server = await startServerProcess(new URL('./meshguard-server.js', import.meta.url))
 * // ... load server.target.tokenUrl ...
 * await server.stop()
 */
export function startServerProcess<T = BenchTarget>(entry: URL, options: ServerProcessOptions = {}): Promise<ServerProcess<T>> {
  const { startTimeoutMs = 30_000, stopTimeoutMs = 15_000 } = options
  const name = fileURLToPath(entry)
  const child = fork(name, [...(options.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [...(options.execArgv ?? [])] })
  let output = ''
  const capture = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-MAX_OUTPUT_CHARS)
  }
  child.stdout?.on('data', capture)
  child.stderr?.on('data', capture)
  const failure = (what: string) => new Error(`${name}: ${what}${output ? `\n--- its output ---\n${output}` : ''}`)

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code) }))

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) throw failure(`exited early (code ${child.exitCode ?? child.signalCode})`)
    child.send({ type: 'stop' } satisfies StopMessage)
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs)
    const code = await exited
    clearTimeout(timer)
    if (code !== 0) throw failure(`exited with ${code ?? 'a signal'} when asked to stop`)
  }

  // One sample at a time: the child answers in order, so the oldest waiter takes each answer.
  const samples: Array<(usage: ServerUsage) => void> = []
  child.on('message', (message: unknown) => {
    if (isMessage<UsageMessage>(message, 'usage')) samples.shift()?.({ cpuMicros: message.cpuMicros, requests: message.requests, connections: message.connections })
  })
  const sample = (): Promise<ServerUsage> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(failure(`exited early (code ${child.exitCode ?? child.signalCode})`))
    return new Promise((resolve) => {
      samples.push(resolve)
      child.send({ type: 'sample' } satisfies SampleMessage)
    })
  }

  const questions = new Map<number, { resolve: (answer: unknown) => void; reject: (err: Error) => void }>()
  let lastQuestion = 0
  child.on('message', (message: unknown) => {
    if (!isMessage<AnswerMessage>(message, 'answer')) return
    const waiter = questions.get(message.id)
    questions.delete(message.id)
    if ('error' in message) waiter?.reject(failure(`could not answer: ${message.error}`))
    else waiter?.resolve(message.answer)
  })
  void exited.then((code) => {
    for (const waiter of questions.values()) waiter.reject(failure(`exited with ${code ?? 'a signal'} before answering`))
    questions.clear()
  })
  const ask = <R>(question: object): Promise<R> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(failure(`exited early (code ${child.exitCode ?? child.signalCode})`))
    lastQuestion += 1
    const id = lastQuestion
    return new Promise<R>((resolve, reject) => {
      questions.set(id, { resolve: resolve as (answer: unknown) => void, reject })
      child.send({ type: 'ask', id, question } satisfies AskMessage)
    })
  }

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(failure(`did not report ready within ${startTimeoutMs} ms`))
    }, startTimeoutMs)
    child.on('message', (message: unknown) => {
      if (!isMessage<ReadyMessage>(message, 'ready')) return
      clearTimeout(timer)
      resolve({ target: message.target as T, sample, ask, stop })
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(failure(`exited with ${code ?? 'a signal'} before it was ready`))
    })
  })
}

/**
 * Run by a server entry file once it listens: reports `target` to the parent, answers its
 * requests for a {@link ServerUsage} sample, and closes the server, then exits, when the parent
 * asks or goes away. `T` is a {@link BenchTarget} unless the benchmark names another.
 *
 * @example
 * serveBench<PluginTarget>({ url: `${address}/orders/42` }, () => app.close(), { requests: () => served })
 */
export function serveBench<T extends object = BenchTarget>(target: NoInfer<T>, close: () => Promise<void>, options: ServeBenchOptions = {}): void {
  const send = process.send?.bind(process)
  if (!send) throw new Error('this entry file is started by a benchmark in bench/dist/, not directly')
  let closing = false
  const shutDown = () => {
    if (closing) return
    closing = true
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err)
        process.exit(1)
      },
    )
  }
  process.on('message', (message: unknown) => {
    if (isMessage<StopMessage>(message, 'stop')) shutDown()
    if (isMessage<SampleMessage>(message, 'sample')) {
      const { user, system } = process.cpuUsage()
      send({ type: 'usage', cpuMicros: user + system, requests: options.requests?.() ?? 0, connections: options.connections?.() ?? 0 } satisfies UsageMessage)
    }
    if (isMessage<AskMessage>(message, 'ask')) {
      const { id, question } = message
      const answering = options.answer?.(question) ?? Promise.reject(new Error('this server answers no questions'))
      answering.then(
        (answer) => send({ type: 'answer', id, answer } satisfies AnswerMessage),
        (err: unknown) => send({ type: 'answer', id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies AnswerMessage),
      )
    }
  })
  process.once('disconnect', shutDown)
  send({ type: 'ready', target } satisfies ReadyMessage)
}

/** What a server spent and served between two samples. */
export function usageBetween(before: ServerUsage, after: ServerUsage): ServerUsage {
  return { cpuMicros: after.cpuMicros - before.cpuMicros, requests: after.requests - before.requests, connections: after.connections - before.connections }
}

/** RFC 6749 §2.3.1: id and secret form-urlencoded, joined by a colon, then base64. */
export function basicAuthorization(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replaceAll('%20', '+')
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`
}

function isMessage<M extends { type: string }>(message: unknown, type: M['type']): message is M {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type
}
