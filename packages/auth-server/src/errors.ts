/**
 * OAuth 2.0 error codes this server can return, from RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1,
 * RFC 7009 §2.2.1, RFC 8707 §2 / RFC 8693 §2.2.2 and OpenID Connect Core §3.1.2.6.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'server_error'
  | 'temporarily_unavailable'

/**
 * Base class of every error that is answered as an RFC 6749 §5.2 error response.
 * The single mapping to HTTP lives in `http/error-handler.ts`.
 */
export abstract class OAuthError extends Error {
  abstract readonly error: OAuthErrorCode
  abstract readonly status: number

  constructor(readonly description: string) {
    super(description)
    this.name = new.target.name
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description }
  }
}

export class InvalidRequest extends OAuthError {
  readonly error = 'invalid_request'
  readonly status: number
  constructor(description: string, status = 400) {
    super(description)
    this.status = status
  }
}

/** RFC 6749 §5.2: answered with 401 and a `WWW-Authenticate` challenge. */
export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client'
  readonly status = 401
}

export class InvalidGrant extends OAuthError {
  readonly error = 'invalid_grant'
  readonly status = 400
}

export class UnauthorizedClient extends OAuthError {
  readonly error = 'unauthorized_client'
  readonly status = 400
}

export class UnsupportedGrantType extends OAuthError {
  readonly error = 'unsupported_grant_type'
  readonly status = 400
}

export class InvalidScope extends OAuthError {
  readonly error = 'invalid_scope'
  readonly status = 400
}

export class InvalidTarget extends OAuthError {
  readonly error = 'invalid_target'
  readonly status = 400
}

export class UnsupportedTokenType extends OAuthError {
  readonly error = 'unsupported_token_type'
  readonly status = 400
}

/** Error codes the authorization endpoint sends to a client's redirect URI. */
export type AuthorizationErrorCode =
  | 'invalid_request'
  | 'unauthorized_client'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'login_required'
  | 'consent_required'
  | 'request_not_supported'
  | 'request_uri_not_supported'

/**
 * An authorization-endpoint refusal (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6): sent to
 * the client's redirect URI with `state` and `iss`, never as an HTTP status of its own.
 */
export class AuthorizationError extends Error {
  constructor(
    readonly error: AuthorizationErrorCode,
    readonly description: string,
  ) {
    super(description)
    this.name = 'AuthorizationError'
  }
}

/** RFC 6750 §3.1 for a protected resource (`/userinfo`): 401 with the error in a `Bearer` challenge. */
export class InvalidToken extends OAuthError {
  readonly error = 'invalid_token'
  readonly status = 401
}

/** RFC 6750 §3.1: the token is valid but lacks a scope the resource requires; 403. */
export class InsufficientScope extends OAuthError {
  readonly error = 'insufficient_scope'
  readonly status = 403
}

export class ServerError extends OAuthError {
  readonly error = 'server_error'
  readonly status = 500
}

export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable'
  readonly status = 503
}

/** Codes of errors that are not OAuth responses: configuration, store, key and TLS file problems, and sign-in refusals. */
export const meshguardErrorCodes = [
  'ERR_CONFIG_INVALID',
  'ERR_STORE_CONFLICT',
  'ERR_STORE_NOT_FOUND',
  'ERR_KEY_DECRYPT',
  'ERR_INVALID_ARGUMENT',
  'ERR_TLS_CREDENTIALS',
  'ERR_LOGIN_FAILED',
  'ERR_LOGIN_THROTTLED',
] as const

export type MeshguardErrorCode = (typeof meshguardErrorCodes)[number]

export class MeshguardError extends Error {
  constructor(
    readonly code: MeshguardErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'MeshguardError'
  }
}
