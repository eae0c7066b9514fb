import type { ServerResponse } from 'node:http'
import type { ServerContext } from '../context.js'

/** Sent when the stream is idle, so proxies and clients can tell a live stream from a dead one. */
const HEARTBEAT_MS = 15_000

/**
 * Revocations as Server-Sent Events, for verifiers to refuse revoked tokens without asking.
 * Each connection first gets every revocation whose token has not yet expired, then an
 * `event: ready`, then each new revocation as it happens, from this instance or learnt from the
 * store. `revoked` events carry only `jti` and `exp`: nothing that identifies a client or a user.
 * A `keys` event, with the published `kid`s, tells verifiers to refetch the JWKS at once, so a
 * key dropped by an emergency rotation stops verifying everywhere.
 */
export class RevocationStream {
  readonly #open = new Set<ServerResponse>()

  constructor(private readonly ctx: ServerContext) {}

  serve(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // A stream is never followed by another request on its connection; ending it closes the socket.
      connection: 'close',
      'x-accel-buffering': 'no',
    })
    const revoked = (jti: string, exp: number) => `event: revoked\ndata: ${JSON.stringify({ jti, exp })}\n\n`
    const snapshot = Array.from(this.ctx.directory.revoked(), ([jti, exp]) => revoked(jti, exp))
    response.write(`retry: 1000\n\n${snapshot.join('')}event: ready\ndata: {}\n\n`)
    const send = (jti: string, exp: number) => response.write(revoked(jti, exp))

    const unsubscribe = this.ctx.revocations.subscribe((event) => send(event.jti, event.expiresAt))
    const unsubscribeKeys = this.ctx.keys.onPublishedKeysChange((kids) => response.write(`event: keys\ndata: ${JSON.stringify({ kids })}\n\n`))
    const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), HEARTBEAT_MS)
    heartbeat.unref()
    this.#open.add(response)
    response.on('close', () => {
      unsubscribe()
      unsubscribeKeys()
      clearInterval(heartbeat)
      this.#open.delete(response)
    })
  }

  /** Ends every open stream, so the server can close; clients reconnect elsewhere. */
  closeAll(): void {
    for (const response of this.#open) response.end()
  }
}
