import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import tls, { type SecureContext } from 'node:tls'
import { PAGE_REQUEST, PAGE_RESPONSE, SERVER_NAME } from './mtls-credentials.js'
import { usageBetween, type ServerUsage } from './server-process.js'

/** A full handshake on every connection, or one resuming the session (TLS 1.3: a ticket) of the connection before. */
export type HandshakeMode = 'full' | 'resumed'

export interface HandshakeLoadOptions {
  port: number
  /** The client's certificate chain, key and trust bundle, made once. */
  secureContext: SecureContext
  mode: HandshakeMode
  /** Connections under way at once. */
  concurrency: number
  warmupSec: number
  durationSec: number
  /** The server's running totals, sampled either side of the measured run. */
  sampleServer: () => Promise<ServerUsage>
}

/** What a connection negotiated, as the client saw it. */
export interface NegotiatedTls {
  protocol: string
  cipher: string
  /** The key-exchange group, e.g. `X25519`. */
  group: string
}

/** The measured run's figures; failures count the warm-up too. */
export interface HandshakeResult {
  /** Connections completed in the measured run: handshake, page request, page, close. */
  handshakes: number
  seconds: number
  perSecond: number
  /** In `resumed` mode, the measured connections that did resume a session, and those that did not. */
  resumed: number
  notResumed: number
  /** Connections that failed: a handshake that did not verify, an error, or not the page. */
  failures: number
  firstFailure?: string | undefined
  /** This process's CPU time over the measured run (the client's), microseconds. */
  clientCpuMicros: number
  server: ServerUsage
}

/** What one connection came to. */
export interface ConnectionOutcome {
  /** Undefined when the handshake verified and the page came back; otherwise what went wrong. */
  failure: string | undefined
  reused: boolean
  /** The last session ticket the server sent, to resume from. */
  session: Buffer | undefined
  negotiated: NegotiatedTls | undefined
}

/**
 * Makes TLS 1.3 connections to `127.0.0.1:port` from `concurrency` loops for a warm-up, then
 * for the measured run: each connection verifies the server's chain and name, presents the
 * client certificate, requests the page and waits for the server to close. In `resumed` mode
 * each loop offers the latest session ticket it received, and counts the connections that did
 * not resume.
 *
 * @example
 * const result = await measureHandshakes({ port, secureContext, mode: 'full', concurrency: 4, warmupSec: 1, durationSec: 5, sampleServer })
 */
export async function measureHandshakes(options: HandshakeLoadOptions): Promise<HandshakeResult> {
  let measuring = false
  let stopping = false
  const counts = { handshakes: 0, resumed: 0, notResumed: 0, failures: 0, firstFailure: undefined as string | undefined }
  const loop = async () => {
    let session: Buffer | undefined
    while (!stopping) {
      const outcome = await connectOnce(options.port, options.secureContext, options.mode === 'resumed' ? session : undefined)
      if (outcome.failure !== undefined) {
        counts.failures += 1
        counts.firstFailure ??= outcome.failure
        continue
      }
      session = outcome.session ?? session
      if (!measuring) continue
      counts.handshakes += 1
      // The first connection of a loop has no session to offer.
      if (options.mode === 'resumed') counts[outcome.reused ? 'resumed' : 'notResumed'] += 1
    }
  }
  const loops = Array.from({ length: options.concurrency }, loop)
  await sleep(options.warmupSec * 1000)
  const before = await options.sampleServer()
  const cpuBefore = process.cpuUsage()
  Object.assign(counts, { handshakes: 0, resumed: 0, notResumed: 0 })
  const start = performance.now()
  measuring = true
  await sleep(options.durationSec * 1000)
  measuring = false
  const seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  const after = await options.sampleServer()
  stopping = true
  await Promise.all(loops)
  return {
    handshakes: counts.handshakes,
    seconds,
    perSecond: counts.handshakes / seconds,
    resumed: counts.resumed,
    notResumed: counts.notResumed,
    failures: counts.failures,
    firstFailure: counts.firstFailure,
    clientCpuMicros: cpu.user + cpu.system,
    server: usageBetween(before, after),
  }
}

/**
 * One connection as {@link measureHandshakes} makes them, pinned to TLS 1.3. Without a client
 * certificate in `secureContext`, a server requiring one must refuse it.
 */
export function connectOnce(port: number, secureContext: SecureContext, session?: Buffer): Promise<ConnectionOutcome> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: SERVER_NAME, secureContext, session, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })
    let response = ''
    let failure: string | undefined
    let latest: Buffer | undefined
    let negotiated: NegotiatedTls | undefined
    let reused = false
    socket.setEncoding('latin1')
    socket.on('session', (ticket: Buffer) => {
      latest = ticket
    })
    socket.once('secureConnect', () => {
      // Node has verified the chain and the name (rejectUnauthorized), or emitted an error instead.
      if (!socket.authorized) failure = `the server's certificate did not verify: ${String(socket.authorizationError)}`
      // Read while the connection is up: a closed socket reports no session, reused or not.
      reused = socket.isSessionReused()
      negotiated = { protocol: socket.getProtocol() ?? '?', cipher: socket.getCipher().standardName, group: (socket.getEphemeralKeyInfo() as { name?: string } | null)?.name ?? '?' }
      socket.write(PAGE_REQUEST)
    })
    socket.on('data', (chunk: string) => {
      response += chunk
    })
    socket.on('error', (err) => {
      failure ??= err.message
    })
    socket.once('close', () => {
      if (failure === undefined && response !== PAGE_RESPONSE) failure = `the server answered ${JSON.stringify(response.slice(0, 100))}, not the page`
      resolve({ failure, reused, session: latest, negotiated })
    })
  })
}
