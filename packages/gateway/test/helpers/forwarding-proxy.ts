import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A plain HTTP reverse proxy to one origin that counts the requests it forwards, and can be
 * stopped and started again on the same port: an authorization server that goes away and comes
 * back, for the gateway's introspection.
 */
export class ForwardingProxy {
  hits = 0
  url = ''
  #server: Server | undefined
  #port = 0

  constructor(readonly target: string) {}

  async start(): Promise<this> {
    const { hostname, port } = new URL(this.target)
    const server = createServer((req, res) => {
      this.hits += 1
      const forwarded = request({ host: hostname, port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode!, answer.headers)
        answer.pipe(res)
      })
      forwarded.on('error', () => res.destroy())
      req.pipe(forwarded)
    })
    await new Promise<void>((resolve) => server.listen(this.#port, '127.0.0.1', resolve))
    this.#port = (server.address() as AddressInfo).port
    this.url = `http://127.0.0.1:${this.#port}`
    this.#server = server
    return this
  }

  /** Stops listening and cuts every connection: the next request is refused. */
  async stop(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}
