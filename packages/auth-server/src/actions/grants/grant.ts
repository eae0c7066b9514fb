import type { CertificateConfirmation } from '../../client-auth/context.js'
import type { ServerContext } from '../../context.js'
import type { FormParams } from '../../http/form-params.js'
import type { ClientRecord } from '../../store/store.js'
import type { AccessTokenClaims } from '@meshguard/token'

export interface GrantRequest {
  client: ClientRecord
  params: FormParams
  /** The certificate the client authenticated with (RFC 8705 §3): every token issued is bound to it. */
  confirmation?: CertificateConfirmation | undefined
}

export interface GrantResult {
  /** The RFC 6749 §5.1 response body. */
  body: Record<string, unknown>
  claims: AccessTokenClaims
}

/** One grant type: a file under `actions/grants/` and a line in `actions/grants/index.ts`. */
export interface Grant {
  readonly grantType: string
  handle(ctx: ServerContext, request: GrantRequest): Promise<GrantResult>
}
