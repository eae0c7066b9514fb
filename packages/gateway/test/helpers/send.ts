import { request } from 'node:http'

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** The body as JSON, or `{}` when it is not. */
  body: Record<string, unknown>
}

export interface SendOptions {
  method?: string
  /** Raw list, repeated names kept: name, value, name, value… */
  headers?: string[]
  body?: string | Buffer
  /** Write the body in chunks without a Content-Length (chunked). */
  chunked?: boolean
}

/** A raw HTTP/1.1 request: the target and headers go out exactly as given, on a fresh connection. */
export function send(base: string, path: string, options: SendOptions = {}): Promise<Reply> {
  const { port, hostname } = new URL(base)
  const given = options.headers ?? []
  const headers = given.some((name, i) => i % 2 === 0 && name.toLowerCase() === 'host') ? [...given] : ['host', `${hostname}:${port}`, ...given]
  if (options.body !== undefined && !options.chunked) headers.push('content-length', String(Buffer.byteLength(options.body)))
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: options.method ?? 'GET', path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        let body: Record<string, unknown> = {}
        try {
          body = JSON.parse(text) as Record<string, unknown>
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, body })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    if (options.body !== undefined && options.chunked) {
      const body = Buffer.from(options.body)
      for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.subarray(at, at + 16 * 1024))
      req.end()
    } else req.end(options.body)
  })
}

/** The upstream's echo of what it received, from a gateway reply. */
export function echoed(reply: Reply): { method: string; url: string; rawHeaders: string[]; headers: Record<string, string | string[] | undefined>; body: string } {
  return reply.body as never
}
