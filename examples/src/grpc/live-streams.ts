import { status, type ServerWritableStream } from '@grpc/grpc-js'

/**
 * The server streams a service has open, so that stopping the service ends them (`UNAVAILABLE`:
 * the client may reconnect) instead of leaving the server's shutdown waiting on them.
 */
export class LiveStreams {
  readonly #stops = new Map<ServerWritableStream<unknown, unknown>, () => void>()

  /** Follows `call` until it ends; `stop` runs once, when the client cancels, the call is refused mid-way, or {@link endAll}. */
  track<Request, Response>(call: ServerWritableStream<Request, Response>, stop: () => void): void {
    const key = call as ServerWritableStream<unknown, unknown>
    let stopped = false
    const once = () => {
      if (stopped) return
      stopped = true
      this.#stops.delete(key)
      stop()
    }
    this.#stops.set(key, once)
    call.on('cancelled', once)
    call.on('finish', once)
  }

  get size(): number {
    return this.#stops.size
  }

  /** Ends every open stream with `UNAVAILABLE` and `details`. */
  endAll(details: string): void {
    for (const [call, stop] of [...this.#stops]) {
      stop()
      call.emit('error', { code: status.UNAVAILABLE, details })
    }
  }
}
