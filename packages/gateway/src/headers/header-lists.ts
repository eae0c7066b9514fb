/**
 * RFC 9110 §7.6.1: headers about one connection, never forwarded, in either direction; with
 * `Proxy-Connection` (pre-standard), `Proxy-Authorization`/`Proxy-Authenticate` (meant for this
 * hop, RFC 9110 §11.7) and `Expect` (100-continue is answered by the gateway itself).
 */
export const hopByHopHeaders = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'expect',
] as const

/**
 * Headers the gateway sets on every forwarded request: a client's own are dropped, never passed
 * on, so a client cannot pose as the gateway or as a proxy in front of it. `X-Forwarded-*` are
 * kept (and appended to) only behind trusted proxies (`listen.trustProxyHops`), and `tracestate`
 * only with a valid `traceparent`.
 */
export const gatewaySetHeaders = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'forwarded',
  'x-real-ip',
] as const

/**
 * Headers services inside the mesh may trust as identity or routing facts, which no client
 * at the edge may send: they are dropped and the gateway sets none of them (upstreams learn the
 * caller from the forwarded, verified JWT). `X-Scope-Token` is seed 004's service-to-service
 * scope token; the `X-*-Client-Cert*` ones carry a client certificate from a TLS terminator;
 * `X-Original-URL`/`X-Rewrite-URL` make some frameworks route by another path than the one
 * the gateway checked.
 */
export const identityHeaders = [
  'x-scope-token',
  'x-forwarded-client-cert',
  'x-client-cert',
  'x-ssl-client-cert',
  'x-ssl-client-verify',
  'x-ssl-client-dn',
  'x-original-url',
  'x-rewrite-url',
] as const

/** Every header starting with one of these is dropped too: Meshguard's own and the usual identity-propagation families. */
export const identityHeaderPrefixes = ['x-meshguard-', 'x-authenticated-'] as const

/**
 * What a name listed in the client's `Connection` header can never remove: the message's framing
 * and type. `Authorization` and every header the gateway sets are beyond its reach anyway, being
 * added after the client's headers are filtered.
 */
export const connectionProtectedHeaders = ['content-length', 'content-type'] as const
