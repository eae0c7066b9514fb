/**
 * The OpenID Connect scopes this server grants itself, so no resource server defines them:
 * `openid` asks for an ID token (Core §3.1.2.1), `profile` and `email` for those claims (Core
 * §5.4), `offline_access` for a refresh token that outlives the sign-in session (Core §11).
 * Only clients with a user behind them (`web`, `spa`, `native`) may hold them.
 *
 * @example
 * OIDC_SCOPES.has('openid') // true
 */
export const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'offline_access'])
