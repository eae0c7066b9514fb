import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { StaticKey } from '@meshguard/service-kit'

/** The two endpoints of an authorization server that a gateway calls, answered from memory. */
export interface IssuerStub {
  /** `http://127.0.0.1:<port>`: keys at `<issuer>/.well-known/jwks.json`, introspection at `<issuer>/oauth2/introspect`. */
  issuer: string
  /** An opaque token that introspects to `jwt` (made up here, as reference tokens are). */
  reference(jwt: string): string
  /** Key sets served so far. */
  readonly jwksFetches: number
  /** Introspection requests answered so far, refusals included. */
  readonly introspections: number
  close(): Promise<void>
}

export interface IssuerStubOptions {
  /** The issuer's public keys, served as a JWK Set (RFC 7517 §5). */
  keys: readonly StaticKey[]
  /** The one client allowed to introspect (`client_secret_basic`), as the gateway's phantom-token client. */
  client: { id: string; secret: string }
}

/**
 * Serves an issuer's JWKS and its phantom-token introspection on loopback, port 0: a `POST` to
 * `/oauth2/introspect` by the client, with `Accept: application/jwt`, gets the JWT an opaque
 * token stands for as `application/jwt`, or `{"active":false}` for any other token (RFC 7662
 * §2.2); a wrong client gets 401. Enough of an authorization server for a gateway's token
 * checks, without its cost in the figures.
 *
 * @example
 * const issuer = await serveIssuerStub({ keys: [jwk], client: { id: 'gateway', secret } })
 * const opaque = issuer.reference(jwt)
 */
export async function serveIssuerStub(options: IssuerStubOptions): Promise<IssuerStub> {
  const jwks = JSON.stringify({ keys: options.keys })
  const expected = Buffer.from(`Basic ${Buffer.from(`${options.client.id}:${options.client.secret}`).toString('base64')}`)
  const references = new Map<string, string>()
  let jwksFetches = 0
  let introspections = 0
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/.well-known/jwks.json') {
      jwksFetches += 1
      response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(jwks)
      return
    }
    if (request.method !== 'POST' || request.url !== '/oauth2/introspect') {
      response.writeHead(404).end()
      return
    }
    introspections += 1
    const authorization = Buffer.from(request.headers.authorization ?? '')
    if (authorization.length !== expected.length || !timingSafeEqual(authorization, expected)) {
      response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic' }).end('{"error":"invalid_client"}')
      return
    }
    void readForm(request).then((form) => {
      const jwt = references.get(form.get('token') ?? '')
      if (jwt !== undefined && request.headers.accept === 'application/jwt') response.writeHead(200, { 'content-type': 'application/jwt' }).end(jwt)
      else response.writeHead(200, { 'content-type': 'application/json' }).end('{"active":false}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    issuer: `http://127.0.0.1:${port}`,
    reference(jwt) {
      const token = `mgat_${randomBytes(32).toString('base64url')}`
      references.set(token, jwt)
      return token
    },
    get jwksFetches() {
      return jwksFetches
    },
    get introspections() {
      return introspections
    },
    close: () =>
      new Promise((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err)
          else resolve()
        })
        server.closeAllConnections()
      }),
  }
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}
