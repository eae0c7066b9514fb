export { createAuthServer } from './server.js'
export type { AuthServer, AuthServerDeps } from './server.js'
export { loadConfig, parseConfig, environmentVariables } from './config/load-config.js'
export type { LoadConfigOptions } from './config/load-config.js'
export { authServerConfigSchema, signingAlgorithms, isLoopbackHost } from './config/schema.js'
export type { AuthServerConfig, AuthServerConfigInput, SigningAlgorithm } from './config/schema.js'
export { registerClient, registerResourceServer } from './admin/register.js'
export type { ClientInput, RegisteredClient, ResourceServerInput } from './admin/register.js'
export { registerUser, changeUserPassword, deleteUser } from './admin/users.js'
export type { UserInput } from './admin/users.js'
export { issueAuthorizationCode } from './authorize/authorize-flow.js'
export type { CodeRequest, PendingRequest } from './authorize/authorize-flow.js'
export { createUserAuthenticator } from './users/authenticate-user.js'
export type { LoginAttempt, LoginOutcome, UserAuthenticator, UserAuthenticatorDeps } from './users/authenticate-user.js'
export { DEFAULT_LOGIN_THROTTLE } from './users/login-throttle.js'
export type { LoginThrottlePolicies, ThrottlePolicy } from './users/login-throttle.js'
export { canonicalUsername } from './users/username.js'
export { passwordProblems, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH } from './users/password-policy.js'
export { hashPassword, verifyPassword, needsRehash, DEFAULT_SCRYPT_PARAMS } from './crypto/password-hash.js'
export type { ScryptParams } from './crypto/password-hash.js'
export { KeyManager } from './keys/key-manager.js'
export type { RotationMode } from './keys/plan-rotation.js'
export { resolveKeyEncryptionKey } from './crypto/key-encryption.js'
export { openStore } from './store/open-store.js'
export type { Store, ClientRecord, ClientType, ResourceServerRecord, SigningKeyRecord, AuditEvent, RevocationRecord, ReferenceTokenRecord, UserRecord, LoginFailureRecord, LoginFailureRule } from './store/store.js'
export { tokenFormats } from './tokens/token-format.js'
export type { TokenFormat } from './tokens/token-format.js'
export { REFERENCE_TOKEN_PREFIX } from './tokens/reference-tokens.js'
export { INTROSPECTION_RESPONSE_TYP } from './tokens/sign-introspection-response.js'
export { introspectionMediaTypes } from './actions/introspection.js'
export type { IntrospectionMediaType } from './actions/introspection.js'
export { MtlsListener } from './http/mtls-listener.js'
export { endpointPaths } from './context.js'
export type { ServerContext } from './context.js'
export { systemClock } from './clock.js'
export type { Clock } from './clock.js'
export { TOKEN_EXCHANGE_GRANT, tokenTypes } from './actions/grants/token-exchange.js'
export { actChain, actDepth, encodeAccessToken, verifyAccessToken, ACCESS_TOKEN_TYP } from '@meshguard/token'
export type { AccessTokenClaims, ActClaim, AccessTokenResult, AccessTokenFailure, TokenSigner, VerificationKey, VerifyOptions } from '@meshguard/token'
export {
  OAuthError,
  InvalidRequest,
  InvalidClient,
  InvalidGrant,
  UnauthorizedClient,
  UnsupportedGrantType,
  InvalidScope,
  InvalidTarget,
  UnsupportedTokenType,
  ServerError,
  TemporarilyUnavailable,
  MeshguardError,
  meshguardErrorCodes,
} from './errors.js'
export type { OAuthErrorCode, MeshguardErrorCode } from './errors.js'
