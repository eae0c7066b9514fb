import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import { isIP, type AddressInfo, type Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import type { ServerContext } from '../context.js'
import { buildApp } from './build-app.js'
import { readMtlsCredentials, type MtlsConfig, type MtlsCredentials } from './mtls-credentials.js'

/**
 * RFC 8705's mutual-TLS listener: the same endpoints over HTTPS, asking every client for a
 * certificate. Connections without one, or with one that does not verify, are accepted
 * (`rejectUnauthorized: false`) so that clients of other methods are served too; the
 * `tls_client_auth` method decides per request.
 *
 * The files are re-read every `reloadIntervalSec` and, when they changed, apply to new
 * handshakes. Connections verified under the old files close: idle ones at once, busy ones after
 * the response in progress, so no request that starts after a reload relies on a certificate the
 * new CRL revokes.
 *
 * @example
 * const listener = new MtlsListener(ctx, config.mtls, await readMtlsCredentials(config.mtls))
 * const url = await listener.listen()
 */
export class MtlsListener {
  readonly app: FastifyInstance
  readonly #ctx: ServerContext
  readonly #config: MtlsConfig
  readonly #server: Server
  /** Which files each connection was verified under: bumped by every reload that changes them. */
  readonly #generationOf = new WeakMap<Socket, number>()
  #generation = 0
  #credentials: MtlsCredentials
  #timer: NodeJS.Timeout | undefined

  constructor(ctx: ServerContext, config: MtlsConfig, credentials: MtlsCredentials) {
    this.#ctx = ctx
    this.#config = config
    this.#credentials = credentials
    this.#server = createServer({ ...credentials.options, requestCert: true, rejectUnauthorized: false })
    this.#server.on('secureConnection', (socket: TLSSocket) => {
      // The client certificate is read once per connection (client-certificate.ts): renegotiation must not change it.
      socket.disableRenegotiation()
      this.#generationOf.set(socket, this.#generation)
    })
    this.app = buildApp(ctx, { listener: 'mtls', serverFactory: (handler) => this.#server.on('request', handler) })
    this.app.addHook('onSend', (request, reply, payload, done) => {
      if (this.#generationOf.get(request.raw.socket) !== this.#generation) void reply.header('connection', 'close')
      done(null, payload)
    })
  }

  /** Starts listening and re-reading the files; resolves to `https://<host>:<port>`, the host as configured when it is a name. */
  async listen(): Promise<string> {
    const host = this.#config.host ?? this.#ctx.config.host
    await this.app.listen({ host, port: this.#config.port })
    const { address, family, port } = this.#server.address() as AddressInfo
    this.#timer = setInterval(() => {
      this.reload().then(
        (changed) => {
          if (changed) this.#ctx.logger.info({ event: 'mtls.reloaded' }, 'mutual-TLS certificate, key, trust bundle or CRL changed: applied to new connections')
        },
        (err: unknown) => {
          this.#ctx.logger.error({ err, event: 'mtls.reload_failed' }, 'could not reload the mutual-TLS files; the previous ones stay in use')
        },
      )
    }, this.#config.reloadIntervalSec * 1000)
    this.#timer.unref()
    // Fastify names the address `http:` whatever server its factory made.
    const bound = family === 'IPv6' ? `[${address}]` : address
    return `https://${isIP(host) === 0 ? host : bound}:${port}`
  }

  /**
   * Re-reads the files and, when they changed, applies them. Nothing changes when they are not
   * usable (a certificate and key caught mid-rotation): the next read tries again.
   *
   * @returns whether they changed.
   * @throws MeshguardError `ERR_TLS_CREDENTIALS`.
   */
  async reload(): Promise<boolean> {
    const next = await readMtlsCredentials(this.#config)
    if (next.contents === this.#credentials.contents) return false
    this.#server.setSecureContext(next.options)
    // A session resumed from a ticket is not verified again. New ticket keys make every client
    // handshake afresh, whether or not setSecureContext keeps the old keys (it is not documented).
    this.#server.setTicketKeys(randomBytes(48))
    this.#credentials = next
    this.#generation += 1
    this.#server.closeIdleConnections()
    return true
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.app.close()
  }
}
