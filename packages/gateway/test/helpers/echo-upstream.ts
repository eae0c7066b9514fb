import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What an echo upstream saw of one request. */
export interface Seen {
  method: string
  url: string
  rawHeaders: string[]
  headers: IncomingMessage['headers']
  body: string
}

/** What the upstream does with a request; by default it echoes it as JSON. */
export type Behaviour = (req: IncomingMessage, res: ServerResponse, seen: Seen, hit: number) => void | Promise<void>

export const echo: Behaviour = (_req, res, seen) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify(seen))
}

/** A real node:http upstream on loopback that records and echoes what it receives. */
export class EchoUpstream {
  readonly seen: Seen[] = []
  behaviour: Behaviour = echo
  readonly #server: Server
  url = ''

  constructor(readonly name = 'upstream') {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const seen: Seen = { method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, headers: req.headers, body: Buffer.concat(chunks).toString() }
        this.seen.push(seen)
        void this.behaviour(req, res, seen, this.seen.length)
      })
    })
  }

  get hits(): number {
    return this.seen.length
  }

  get last(): Seen {
    return this.seen[this.seen.length - 1]!
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  reset(behaviour: Behaviour = echo): void {
    this.seen.length = 0
    this.behaviour = behaviour
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => {
      this.#server.close(() => {
        resolve()
      })
    })
  }
}

/** A loopback URL nothing listens on. */
export async function deadUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}
