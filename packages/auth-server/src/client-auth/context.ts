import type { Clock } from '../clock.js'
import type { AuthServerConfig } from '../config/schema.js'
import type { FormParams } from '../http/form-params.js'
import type { Directory } from '../directory/directory.js'
import type { ClientRecord, Store } from '../store/store.js'

export interface ClientAuthRequest {
  authorization: string | undefined
  params: FormParams
  /** The URL the request was sent to, an accepted `aud` of client assertions. */
  endpointUrl: string
}

export interface ClientAuthDeps {
  directory: Pick<Directory, 'getClient'>
  store: Pick<Store, 'consumeAssertionJti'>
  clock: Clock
  issuer: string
  config: Pick<AuthServerConfig, 'clientAssertion' | 'tokens'>
}

/** One client authentication method (OpenID Connect Core §9 names). */
export interface ClientAuthMethod {
  readonly name: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'
  /** Whether the request carries this method's credentials. */
  present(request: ClientAuthRequest): boolean
  authenticate(request: ClientAuthRequest, deps: ClientAuthDeps): Promise<ClientRecord>
}
