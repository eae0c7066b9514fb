import { get } from 'node:http'

export interface SseEvent {
  event: string
  data: string
}

/**
 * Reads Server-Sent Events from a URL until stopped; events are pushed to `events` as they arrive.
 * Uses node:http without an agent, so stopping closes the one connection and leaves nothing pooled.
 */
export function readEvents(url: string): { events: SseEvent[]; waitFor(match: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>; stop(): void } {
  const events: SseEvent[] = []
  const controller = new AbortController()
  const waiters: Array<() => void> = []
  void (async () => {
    const response = await new Promise<AsyncIterable<Buffer>>((resolve, reject) => {
      get(url, { agent: false, signal: controller.signal, headers: { accept: 'text/event-stream' } }, resolve).on('error', reject)
    })
    let buffer = ''
    for await (const chunk of response) {
      buffer += chunk.toString('utf8')
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const fields = Object.fromEntries(block.split('\n').filter((line) => !line.startsWith(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]))
        if (fields.event !== undefined) {
          events.push({ event: fields.event, data: fields.data ?? '' })
          for (const wake of waiters.splice(0)) wake()
        }
      }
    }
  })().catch(() => undefined)
  return {
    events,
    async waitFor(match, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = events.find(match)
        if (found) return found
        if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 50)
        })
      }
    },
    stop: () => {
      controller.abort()
    },
  }
}
