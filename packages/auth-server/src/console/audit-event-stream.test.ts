import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AuditLog } from '../audit/audit-log.js'
import type { AuditEvent, Store } from '../store/store.js'
import { AuditEventStream } from './audit-event-stream.js'

/** A response whose unsent bytes the test sets, as a client that stops reading would leave them. */
class FakeResponse extends EventEmitter {
  readonly frames: string[] = []
  writableLength = 0
  writableEnded = false
  destroyed = false

  writeHead(): this {
    return this
  }

  write(chunk: string): boolean {
    this.frames.push(chunk)
    return true
  }

  end(): this {
    this.writableEnded = true
    this.emit('close')
    return this
  }

  /** The `event:` names written, in order. */
  events(): string[] {
    return this.frames.flatMap((frame) => [...frame.matchAll(/^event: (\w+)$/gm)].map((match) => match[1]!))
  }
}

const event = (n: number): AuditEvent => ({ ts: n, type: 'service.call', decision: 'deny', details: { service: 'orders' } })

describe('AuditEventStream', () => {
  let audit: AuditLog
  let stream: AuditEventStream
  const subscribe = vi.fn()

  beforeEach(() => {
    vi.useFakeTimers()
    audit = new AuditLog({ store: { appendAudit: () => Promise.resolve() } as unknown as Store, logger: pino({ level: 'silent' }), flushIntervalMs: 60_000 })
    const onRecord = audit.onRecord.bind(audit)
    subscribe.mockReset()
    stream = new AuditEventStream({
      audit: {
        onRecord: (listener) => {
          subscribe()
          return onRecord(listener)
        },
      },
      heartbeatMs: 1000,
      maxBufferedBytes: 100,
    })
  })
  afterEach(async () => {
    stream.closeAll()
    await audit.close()
    vi.useRealTimers()
  })

  const serve = (allowed: () => Promise<boolean> = () => Promise.resolve(true)) => {
    const response = new FakeResponse()
    stream.serve(response as unknown as ServerResponse, allowed)
    return response
  }

  it('serves many viewers from one subscription, serialising each event once for all', () => {
    const viewers = Array.from({ length: 50 }, () => serve())
    audit.record(event(1))
    expect(subscribe).toHaveBeenCalledTimes(1)
    for (const viewer of viewers) expect(viewer.events()).toStrictEqual(['ready', 'audit'])
    expect(viewers[0]!.frames[1]).toBe(`event: audit\ndata: ${JSON.stringify(event(1))}\n\n`)
  })

  it('drops events for a viewer that does not keep up, tells it how many when it drains, then resumes', () => {
    const slow = serve()
    const fast = serve()
    slow.writableLength = 101
    for (let n = 1; n <= 3; n++) audit.record(event(n))
    expect(slow.events()).toStrictEqual(['ready'])
    expect(fast.events()).toStrictEqual(['ready', 'audit', 'audit', 'audit'])

    slow.writableLength = 0
    slow.emit('drain')
    audit.record(event(4))
    expect(slow.events()).toStrictEqual(['ready', 'dropped', 'audit'])
    expect(slow.frames[1]).toBe('event: dropped\ndata: {"count":3}\n\n')
  })

  it('ends a stream whose viewer may no longer watch, checked at each heartbeat', async () => {
    let allowed = true
    const viewer = serve(() => Promise.resolve(allowed))
    await vi.advanceTimersByTimeAsync(1000)
    expect(viewer.frames.at(-1)).toBe(': heartbeat\n\n')
    allowed = false
    await vi.advanceTimersByTimeAsync(1000)
    expect(viewer.writableEnded).toBe(true)
    expect(stream.size).toBe(0)
  })

  it('unsubscribes from the audit log when the last viewer leaves, and subscribes again for the next', () => {
    const first = serve()
    first.end()
    expect(stream.size).toBe(0)
    audit.record(event(1))
    expect(first.events()).toStrictEqual(['ready'])
    const second = serve()
    audit.record(event(2))
    expect(subscribe).toHaveBeenCalledTimes(2)
    expect(second.events()).toStrictEqual(['ready', 'audit'])
  })

  it('keeps recording when a listener of the audit log throws', () => {
    const viewer = serve()
    const unsubscribe = audit.onRecord(() => {
      throw new Error('broken listener')
    })
    audit.record(event(1))
    unsubscribe()
    audit.record(event(2))
    expect(viewer.events()).toStrictEqual(['ready', 'audit', 'audit'])
  })
})
