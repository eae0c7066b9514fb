import type { Server } from 'node:tls'
import { secureContextOptions } from './secure-context-options.js'
import type { WorkloadIdentity } from './workload-identity.js'

/**
 * Keeps a TLS server (https, http2 or tls) on the identity's current credentials: each update is
 * applied with `server.setSecureContext`, so handshakes from then on use the new certificate, key,
 * trust bundle and CRL, while established connections and their requests carry on. Returns the
 * function that stops following the identity; closing the server stops it too.
 *
 * @example
 * const server = https.createServer(mtlsServerOptions(identity), handler)
 * const stop = rotateServerCredentials(server, identity)
 */
export function rotateServerCredentials(server: Server, identity: WorkloadIdentity): () => void {
  if (typeof (server as Partial<Server> | null)?.setSecureContext !== 'function') throw new TypeError('server must be a TLS server (https, http2 or tls)')
  server.setSecureContext(secureContextOptions(identity.credentials))
  const stop = identity.onUpdate((credentials) => {
    server.setSecureContext(secureContextOptions(credentials))
  })
  server.once('close', stop)
  return stop
}
