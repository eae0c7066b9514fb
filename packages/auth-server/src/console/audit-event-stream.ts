import type { ServerResponse } from 'node:http'
import type { AuditLog } from '../audit/audit-log.js'
import type { AuditEvent } from '../store/store.js'

export interface AuditEventStreamOptions {
  audit: Pick<AuditLog, 'onRecord'>
  /** How long a stream may stay idle before a heartbeat; each heartbeat checks the viewer may still watch. Default 15 s. */
  heartbeatMs?: number
  /** A client whose socket holds more than this many unsent bytes misses events until it drains. Default 64 KiB. */
  maxBufferedBytes?: number
}

interface Viewer {
  response: ServerResponse
  /** Events not sent while the client was too slow. */
  dropped: number
}

/**
 * The audit events this instance records, as Server-Sent Events (`event: audit`), for the
 * console's live views. One subscription to the audit log serves every viewer, and each event is
 * serialised once. A viewer that does not keep up is not buffered for: its events are dropped
 * until its socket drains, when it is sent `event: dropped` with the count, so it can reload.
 */
export class AuditEventStream {
  readonly #options: Required<AuditEventStreamOptions>
  readonly #viewers = new Set<Viewer>()
  #unsubscribe: (() => void) | undefined

  constructor(options: AuditEventStreamOptions) {
    this.#options = { heartbeatMs: 15_000, maxBufferedBytes: 64 * 1024, ...options }
  }

  /** The number of open streams. */
  get size(): number {
    return this.#viewers.size
  }

  /**
   * Streams to `response` until the client goes, or until `stillAllowed` (asked at each
   * heartbeat) says the viewer may no longer watch: signed out, or no longer an administrator.
   */
  serve(response: ServerResponse, stillAllowed: () => Promise<boolean>): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'close',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    })
    response.write('retry: 2000\n\nevent: ready\ndata: {}\n\n')
    const viewer: Viewer = { response, dropped: 0 }
    this.#viewers.add(viewer)
    this.#unsubscribe ??= this.#options.audit.onRecord((event) => {
      this.#broadcast(event)
    })

    const heartbeat = setInterval(() => {
      stillAllowed().then(
        (allowed) => {
          if (allowed) this.#send(viewer, ': heartbeat\n\n', false)
          else response.end()
        },
        () => {
          response.end()
        },
      )
    }, this.#options.heartbeatMs)
    heartbeat.unref()
    response.on('drain', () => {
      if (viewer.dropped === 0) return
      const count = viewer.dropped
      viewer.dropped = 0
      this.#send(viewer, `event: dropped\ndata: ${JSON.stringify({ count })}\n\n`)
    })
    response.on('close', () => {
      clearInterval(heartbeat)
      this.#viewers.delete(viewer)
      if (this.#viewers.size === 0) {
        this.#unsubscribe?.()
        this.#unsubscribe = undefined
      }
    })
  }

  /** Ends every stream, so the server can close. */
  closeAll(): void {
    for (const { response } of this.#viewers) response.end()
  }

  #broadcast(event: AuditEvent): void {
    const frame = `event: audit\ndata: ${JSON.stringify(event)}\n\n`
    for (const viewer of this.#viewers) this.#send(viewer, frame)
  }

  /** @param event false for a heartbeat, which is not worth counting when it cannot be sent. */
  #send(viewer: Viewer, frame: string, event = true): void {
    const { response } = viewer
    if (response.writableEnded || response.destroyed) return
    if (viewer.dropped > 0 || response.writableLength > this.#options.maxBufferedBytes) {
      if (event) viewer.dropped += 1
      return
    }
    response.write(frame)
  }
}
