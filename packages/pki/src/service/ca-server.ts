import type { AddressInfo } from 'node:net'
import { TLSSocket } from 'node:tls'
import Fastify, { type FastifyError, type FastifyReply } from 'fastify'
import type { Logger } from 'pino'
import { PkiError, type PkiErrorCode } from '../errors.js'
import type { IssuedCertificate } from '../ca/certificate-authority.js'
import { newWorkloadKey } from '../issuance/workload-key.js'
import type { CaService, PublishedCrl } from './ca-service.js'
import { verifiedPeer } from './peer-certificate.js'
import { subjectAltNames } from '../subject-alt-names.js'

export interface CaServerOptions {
  service: CaService
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0: any free port. */
  port?: number
  /** DNS names in the server's certificate besides `localhost`. */
  dnsNames?: readonly string[]
  /** The server's own certificate lives this long and is renewed at 60% of it; default 86,400. */
  serverCertTtlSec?: number
  logger?: Logger
}

export interface CaServer {
  /** `https://host:port`. */
  readonly url: string
  /** The SPIFFE ID in the server's certificate, which clients check: `spiffe://<trust domain>/meshguard/ca`. */
  readonly spiffeId: string
  close(): Promise<void>
}

const STATUS: Record<PkiErrorCode, number> = {
  ERR_CSR_MALFORMED: 400,
  ERR_CSR_SIGNATURE: 400,
  ERR_CSR_KEY: 400,
  ERR_CSR_IDENTITY: 400,
  ERR_CSR_CA: 400,
  ERR_CSR_SAN: 400,
  ERR_TTL: 400,
  ERR_JOIN_TOKEN: 401,
  ERR_PEER_CERTIFICATE: 401,
  ERR_NOT_FOUND: 404,
  ERR_CA_EXISTS: 500,
  ERR_CA_MISSING: 500,
  ERR_CA_KEY: 500,
}

const issueBody = {
  type: 'object',
  required: ['csr'],
  additionalProperties: false,
  properties: {
    token: { type: 'string', maxLength: 256 },
    csr: { type: 'string', maxLength: 16_384 },
    ttl_sec: { type: 'integer' },
  },
} as const

/**
 * The CA's issuance service over HTTPS (TLS 1.2 at least), with its own certificate from the CA
 * for `spiffe://<trust domain>/meshguard/ca`, renewed in place:
 *
 * - `POST /v1/join` `{token, csr, ttl_sec?}`: a first certificate against a one-time join token;
 * - `POST /v1/renew` `{csr, ttl_sec?}`: a new certificate for the identity of the client
 *   certificate presented in the handshake, which must verify, be ours and not be revoked;
 * - `GET /v1/bundle`: the trust bundle (PEM); `GET /v1/crl`: the current CRL (PEM);
 * - `GET /v1/crl/events`: Server-Sent Events, the current CRL and then every change.
 *
 * Refusals are JSON `{error, error_description}` with the {@link PkiError} code as `error`.
 *
 * @example
 * const server = await startCaServer({ service, port: 4100 })
 */
export async function startCaServer(options: CaServerOptions): Promise<CaServer> {
  const { service } = options
  const { ca } = service
  const spiffeId = `spiffe://${ca.trustDomain}/meshguard/ca`
  const ttlSec = options.serverCertTtlSec ?? 86_400
  const dnsNames = ['localhost', ...(options.dnsNames ?? [])]

  const ownCertificate = async () => {
    const { keyPem, csrPem } = await newWorkloadKey(spiffeId, dnsNames)
    const issued = await service.issueOffline({ csr: csrPem, identity: spiffeId, dnsNames, ttlSec })
    return { key: keyPem, cert: issued.chainPem, issued }
  }
  let own = await ownCertificate()
  let crl = await service.crl()
  const secureContext = () => ({ key: own.key, cert: own.cert, ca: ca.trustBundlePem, crl: [...crl.pems] })

  const app = Fastify({
    https: { ...secureContext(), minVersion: 'TLSv1.2', requestCert: true, rejectUnauthorized: false },
    bodyLimit: 64 * 1024,
    ...(options.logger && { loggerInstance: options.logger }),
  })

  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (err instanceof PkiError) return reply.code(STATUS[err.code]).send({ error: err.code, error_description: err.message })
    if (err.validation || (err.statusCode !== undefined && err.statusCode < 500)) {
      return reply.code(err.statusCode ?? 400).send({ error: 'invalid_request', error_description: err.message })
    }
    options.logger?.error({ err }, 'CA request failed')
    return reply.code(500).send({ error: 'server_error', error_description: 'the CA could not complete the request' })
  })

  const answer = (reply: FastifyReply, issued: IssuedCertificate) =>
    reply.header('cache-control', 'no-store').send({
      spiffe_id: issued.spiffeId.uri,
      serial_number: issued.serialNumber,
      certificate_chain: issued.chainPem,
      trust_bundle: ca.trustBundlePem,
      not_after: issued.notAfter.toISOString(),
    })

  app.post<{ Body: { token?: string; csr: string; ttl_sec?: number } }>('/v1/join', { schema: { body: issueBody } }, async (request, reply) => {
    if (request.body.token === undefined) throw new PkiError('ERR_JOIN_TOKEN', 'a join token is required')
    return answer(reply, await service.join({ token: request.body.token, csr: request.body.csr, ...ttl(request.body.ttl_sec) }))
  })

  app.post<{ Body: { csr: string; ttl_sec?: number } }>('/v1/renew', { schema: { body: issueBody } }, async (request, reply) => {
    const { socket } = request.raw
    if (!(socket instanceof TLSSocket)) throw new PkiError('ERR_PEER_CERTIFICATE', 'renewal is served over TLS only')
    const peer = verifiedPeer(socket)
    const dnsNames = peer === undefined ? [] : dnsNamesOf(socket)
    return answer(reply, await service.renew({ peer, csr: request.body.csr, dnsNames, ...ttl(request.body.ttl_sec) }))
  })

  app.get('/v1/bundle', (_request, reply) => reply.type('application/x-pem-file').send(ca.trustBundlePem))
  app.get('/v1/crl', async (_request, reply) => reply.type('application/x-pem-file').header('cache-control', 'no-cache').send((await service.crl()).pem))

  const streams = new Map<(crl: PublishedCrl) => void, () => void>()
  app.get('/v1/crl/events', async (request, reply) => {
    reply.hijack()
    const response = reply.raw
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
    const send = (current: PublishedCrl) => response.write(`event: crl\ndata: ${JSON.stringify({ pem: current.pem, serial_numbers: current.serialNumbers })}\n\n`)
    send(await service.crl())
    const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), 15_000)
    streams.set(send, () => response.end())
    request.raw.on('close', () => {
      clearInterval(heartbeat)
      streams.delete(send)
    })
  })

  const stopCrl = service.onCrl((next) => {
    crl = next
    app.server.setSecureContext(secureContext())
    for (const send of streams.keys()) send(next)
  })
  let renewal: NodeJS.Timeout | undefined
  const scheduleRenewal = () => {
    const lifetime = own.issued.notAfter.getTime() - own.issued.notBefore.getTime()
    const at = own.issued.notBefore.getTime() + lifetime * 0.6
    renewal = setTimeout(() => {
      ownCertificate().then(
        (next) => {
          own = next
          app.server.setSecureContext(secureContext())
          scheduleRenewal()
        },
        (err: unknown) => {
          options.logger?.warn({ err }, 'could not renew the CA server certificate; retrying in a minute')
          renewal = setTimeout(scheduleRenewal, 60_000)
          renewal.unref()
        },
      )
    }, Math.max(1_000, at - Date.now()))
    renewal.unref()
  }
  scheduleRenewal()
  service.start()

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 })
  const { port } = app.server.address() as AddressInfo
  const host = options.host ?? '127.0.0.1'
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    spiffeId,
    async close() {
      clearTimeout(renewal)
      stopCrl()
      service.close()
      // Followers reconnect, to this server once it is back or to another instance.
      for (const end of streams.values()) end()
      await app.close()
    },
  }
}

function ttl(ttlSec: number | undefined): { ttlSec?: number } {
  return ttlSec === undefined ? {} : { ttlSec }
}

/** The DNS names of the client's current certificate, which its renewal may keep. */
function dnsNamesOf(socket: TLSSocket): string[] {
  const certificate = socket.getPeerX509Certificate()
  return certificate === undefined ? [] : subjectAltNames(certificate).dnsNames
}
