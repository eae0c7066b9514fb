import { EventEmitter } from 'node:events'

export interface TokenRevokedEvent {
  jti: string
  clientId: string
  /** Seconds since the epoch when the token would have expired. */
  expiresAt: number
  revokedAt: number
}

export type RevocationListener = (event: TokenRevokedEvent) => void

/**
 * Carries revocations to whoever enforces them. In-process for now; a transport (SSE, Redis)
 * subscribes here and forwards.
 */
export class RevocationBus {
  readonly #emitter = new EventEmitter()

  publish(event: TokenRevokedEvent): void {
    this.#emitter.emit('revoked', event)
  }

  /** @returns a function that removes the listener. */
  subscribe(listener: RevocationListener): () => void {
    this.#emitter.on('revoked', listener)
    return () => this.#emitter.off('revoked', listener)
  }
}
