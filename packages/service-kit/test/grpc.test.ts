import { exportJWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type Client,
  type ClientReadableStream,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import { TOKEN_EXCHANGE_GRANT, tokenTypes } from '@meshguard/auth-server'
import { createVerifier, type StaticKey, type Verifier } from '../src/index.js'
import { bearerCallCredentials, grpcCallAuth, GrpcMethods, meshguardInterceptor } from '../src/adapters/grpc.js'
import { claimsAt, es256Key, forge, json } from './forge.js'
import { TestIssuer } from './helpers/test-issuer.js'

/** A real gRPC service (HTTP/2, gRPC framing) with a JSON codec, so no generated code is needed. */
const codec = { serialize: (value: unknown) => Buffer.from(JSON.stringify(value)), deserialize: (bytes: Buffer): unknown => JSON.parse(bytes.toString()) }
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/demo.SensorService/${name}`,
  originalName: name,
  requestStream,
  responseStream,
  requestSerialize: codec.serialize,
  requestDeserialize: codec.deserialize,
  responseSerialize: codec.serialize,
  responseDeserialize: codec.deserialize,
})
const SensorService = {
  GetReading: method('GetReading', false, false),
  Feed: method('Feed', false, true),
  Upload: method('Upload', true, false),
  Chat: method('Chat', true, true),
  Health: method('Health', false, false),
  Calibrate: method('Calibrate', false, false),
  Unlisted: method('Unlisted', false, false),
}
const policies = {
  '/demo.SensorService/GetReading': { scopes: ['sensor.read'] },
  '/demo.SensorService/Feed': { scopes: ['sensor.read'] },
  '/demo.SensorService/Upload': { scopes: ['sensor.write'] },
  '/demo.SensorService/Chat': { scopes: ['sensor.read'] },
  '/demo.SensorService/Health': { public: true },
  '/demo.SensorService/Calibrate': { scopes: ['sensor.write'], chain: ['order-service', 'cart-service'] },
} as const
const SensorClient = makeGenericClientConstructor(SensorService, 'SensorService')
type Answer = Record<string, unknown>

/** What every handler answers: who called, and how the call was authorised. */
const describeCall = (call: { metadata: Metadata }): Answer => {
  const auth = grpcCallAuth(call)
  return { method: auth.operation.path, subject: auth.caller?.subject, grantedBy: auth.grantedBy, chain: auth.caller?.chain }
}

class SensorServer {
  readonly server: Server
  /** Handler invocations: a refused call must never reach one. */
  handled = 0
  /** Feeds whose handler was told the call ended. */
  feedsCancelled = 0
  refusals: string[] = []
  address = ''

  constructor(verifier: Verifier) {
    this.server = new Server({
      interceptors: [meshguardInterceptor({ methods: new GrpcMethods(policies), verifier, onRefusal: (path, err) => this.refusals.push(`${path} ${err.code}`) })],
    })
    const unary = (call: ServerUnaryCall<unknown, unknown>, callback: (err: null, value: Answer) => void) => {
      this.handled += 1
      callback(null, describeCall(call))
    }
    const implementation: UntypedServiceImplementation = {
      GetReading: unary,
      Health: unary,
      Calibrate: unary,
      Unlisted: unary,
      Feed: (call: ServerWritableStream<unknown, unknown>) => {
        this.handled += 1
        let n = 0
        const timer = setInterval(() => {
          call.write({ n: n++, ...describeCall(call) })
        }, 20)
        call.on('cancelled', () => {
          this.feedsCancelled += 1
          clearInterval(timer)
        })
      },
      Upload: (call: ServerReadableStream<unknown, unknown>, callback: (err: null, value: Answer) => void) => {
        this.handled += 1
        let count = 0
        call.on('data', () => (count += 1))
        call.on('end', () => {
          callback(null, { count, ...describeCall(call) })
        })
      },
      Chat: (call: ServerDuplexStream<unknown, unknown>) => {
        this.handled += 1
        call.on('data', (message: unknown) => {
          call.write({ echo: message, ...describeCall(call) })
        })
        call.on('end', () => {
          call.end()
        })
      },
    }
    this.server.addService(SensorService, implementation)
  }

  async start(): Promise<this> {
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) => {
        if (err) reject(err)
        else resolve(bound)
      })
    })
    this.address = `127.0.0.1:${port}`
    return this
  }

  client(): Client & Record<string, (...args: unknown[]) => unknown> {
    return new SensorClient(this.address, credentials.createInsecure()) as Client & Record<string, (...args: unknown[]) => unknown>
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.tryShutdown(() => {
        resolve()
      })
    })
  }
}

const metadataOf = (entries: Array<[string, string]>) => {
  const metadata = new Metadata()
  for (const [name, value] of entries) metadata.add(name, value)
  return metadata
}

interface Outcome {
  code: number
  details?: string
  challenge?: string
  value?: Answer
}

type AnyClient = ReturnType<SensorServer['client']>

function unary(client: AnyClient, name: string, metadata: Metadata, options: object = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    client[name]!({ at: 'now' }, metadata, options, (err: ServiceError | null, value: Answer) => {
      resolve(err ? outcome(err) : { code: status.OK, value })
    })
  })
}

/** Collects a server stream until it ends, with the status it ended on. */
function collect(stream: ClientReadableStream<Answer>): Promise<{ messages: Answer[]; ended: Outcome }> {
  const messages: Answer[] = []
  return new Promise((resolve) => {
    stream.on('data', (message: Answer) => messages.push(message))
    stream.on('error', (err: ServiceError) => {
      resolve({ messages, ended: outcome(err) })
    })
    stream.on('status', ({ code }: { code: status }) => {
      if (code === status.OK) resolve({ messages, ended: { code } })
    })
  })
}

function streaming(client: AnyClient, name: 'Feed' | 'Upload' | 'Chat', metadata: Metadata): Promise<Outcome> {
  return new Promise((resolve) => {
    const done = (err: ServiceError | null, value?: Answer) => {
      resolve(err ? outcome(err) : { code: status.OK, ...(value && { value }) })
    }
    if (name === 'Feed') {
      const stream = client.Feed!({}, metadata) as ClientReadableStream<Answer>
      stream.on('data', (value: Answer) => {
        stream.cancel()
        done(null, value)
      })
      stream.on('error', (err: ServiceError) => {
        if (err.code !== status.CANCELLED) done(err)
      })
    } else if (name === 'Upload') {
      const stream = client.Upload!(metadata, done) as { write(v: unknown): void; end(): void }
      stream.write({ v: 1 })
      stream.write({ v: 2 })
      stream.end()
    } else {
      const stream = client.Chat!(metadata) as ClientReadableStream<Answer> & { write(v: unknown): void; end(): void }
      stream.on('data', (value: Answer) => {
        stream.end()
        done(null, value)
      })
      stream.on('error', (err: ServiceError) => {
        done(err)
      })
      stream.write({ hello: 1 })
    }
  })
}

function outcome(err: ServiceError): Outcome {
  const challenge = err.metadata.get('www-authenticate')[0]
  return { code: err.code, details: err.details, ...(typeof challenge === 'string' && { challenge }) }
}

describe('gRPC: the server interceptor and call credentials', () => {
  const auth = new TestIssuer()
  let verifier: Verifier
  let sensors: SensorServer
  let client: AnyClient
  const tokens: Record<string, string> = {}
  const bearer = (token: string): Array<[string, string]> => [['authorization', `Bearer ${token}`]]

  beforeAll(async () => {
    await auth.start()
    await auth.resource('sensor-service', ['sensor.read', 'sensor.write'])
    await auth.resource('cart-service', ['cart.write'])
    await auth.resource('order-service', ['order.write'])
    await auth.client({ id: 'dashboard', scopes: ['sensor.read', 'sensor.write', 'cart.write', 'order.write'] })
    await auth.client({ id: 'cart-service', scopes: ['order.write', 'sensor.write'], grantTypes: [TOKEN_EXCHANGE_GRANT] })
    await auth.client({ id: 'order-service', scopes: ['sensor.read', 'sensor.write'], grantTypes: ['client_credentials', TOKEN_EXCHANGE_GRANT] })
    const cc = (id: string, scope: string) => auth.token(id, { grant_type: 'client_credentials', scope })
    const exchange = (id: string, subject: string, extra: Record<string, string>) =>
      auth.token(id, { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subject, subject_token_type: tokenTypes.accessToken, ...extra })
    tokens.read = await cc('dashboard', 'sensor.read')
    tokens.write = await cc('dashboard', 'sensor.write')
    tokens.orderOwn = await cc('order-service', 'sensor.read')
    tokens.cart = await cc('dashboard', 'cart.write')
    const user = await cc('dashboard', 'cart.write order.write sensor.write')
    tokens.viaCart = await exchange('cart-service', user, { scope: 'order.write sensor.write' })
    tokens.viaOrder = await exchange('order-service', tokens.viaCart, { audience: 'sensor-service', scope: 'sensor.write' })

    verifier = createVerifier({
      issuer: auth.issuer,
      audience: 'sensor-service',
      jwksUri: `${auth.issuer}/.well-known/jwks.json`,
      revocationEventsUri: `${auth.issuer}/oauth2/revocations/events`,
    })
    await verifier.start()
    sensors = await new SensorServer(verifier).start()
    client = sensors.client()
  })
  afterAll(async () => {
    client.close()
    await sensors.stop()
    verifier.close()
    await auth.stop()
    auth.cleanup()
  })

  it('lets a unary call with the scope through, with the caller for the handler', async () => {
    expect(await unary(client, 'GetReading', metadataOf(bearer(tokens.read!)))).toEqual({
      code: status.OK,
      value: { method: '/demo.SensorService/GetReading', subject: 'dashboard', grantedBy: 'caller', chain: [] },
    })
  })

  it.each(['Feed', 'Upload', 'Chat'] as const)('lets a %s stream with the scope through', async (name) => {
    const token = name === 'Upload' ? tokens.write! : tokens.read!
    expect(await streaming(client, name, metadataOf(bearer(token)))).toMatchObject({ code: status.OK, value: { subject: 'dashboard', grantedBy: 'caller' } })
  })

  it('serves a public method without a token', async () => {
    expect(await unary(client, 'Health', new Metadata())).toMatchObject({ code: status.OK, value: { grantedBy: 'public' } })
  })

  it('takes scopes from x-scope-token and identity from authorization', async () => {
    const metadata = metadataOf([...bearer(tokens.write!), ['x-scope-token', tokens.orderOwn!]])
    expect(await unary(client, 'GetReading', metadata)).toMatchObject({ code: status.OK, value: { subject: 'dashboard', grantedBy: 'scope-token' } })
  })

  it('accepts the chain the method requires', async () => {
    expect(await unary(client, 'Calibrate', metadataOf(bearer(tokens.viaOrder!)))).toMatchObject({
      code: status.OK,
      value: { subject: 'dashboard', chain: ['order-service', 'cart-service'] },
    })
  })

  const refusals: Array<[string, string, () => Array<[string, string]>, number, RegExp]> = [
    ['no token', 'GetReading', () => [], status.UNAUTHENTICATED, /^Bearer realm="meshguard"$/],
    ['a garbage token', 'GetReading', () => bearer('abc.def.ghi'), status.UNAUTHENTICATED, /error="invalid_token"/],
    ['Basic instead of Bearer', 'GetReading', () => [['authorization', 'Basic ZGFzaGJvYXJkOng=']], status.UNAUTHENTICATED, /error="invalid_token"/],
    ['two x-scope-token values', 'GetReading', () => [...bearer(tokens.write!), ['x-scope-token', tokens.orderOwn!], ['x-scope-token', tokens.orderOwn!]], status.INVALID_ARGUMENT, /^Bearer realm/],
    ['a token without the scope', 'GetReading', () => bearer(tokens.write!), status.PERMISSION_DENIED, /error="insufficient_scope"/],
    ['an invalid x-scope-token and a caller without the scope', 'GetReading', () => [...bearer(tokens.write!), ['x-scope-token', 'garbage']], status.PERMISSION_DENIED, /insufficient_scope/],
    ['a token for another audience', 'GetReading', () => bearer(tokens.cart!), status.UNAUTHENTICATED, /error="invalid_token"/],
    ['a direct call without the chain', 'Calibrate', () => bearer(tokens.write!), status.PERMISSION_DENIED, /^Bearer realm/],
    ['a method with no policy', 'Unlisted', () => bearer(tokens.read!), status.UNIMPLEMENTED, /^Bearer realm/],
  ]

  it.each(refusals)('refuses %s', async (_name, name, entries, code, challenge) => {
    const handled = sensors.handled
    const result = await unary(client, name, metadataOf(entries()))
    expect(result.code).toBe(code)
    expect(result.challenge).toMatch(challenge)
    expect(sensors.handled).toBe(handled)
  })

  it.each([
    ['Feed', [] as Array<[string, string]>, status.UNAUTHENTICATED],
    ['Upload', [['authorization', 'Bearer abc.def.ghi']] as Array<[string, string]>, status.UNAUTHENTICATED],
    ['Chat', [] as Array<[string, string]>, status.UNAUTHENTICATED],
    ['Upload', [['authorization', 'Bearer READ']] as Array<[string, string]>, status.PERMISSION_DENIED],
  ] as const)('refuses a %s stream before its handler runs (%j)', async (name, entries, code) => {
    const handled = sensors.handled
    const metadata = metadataOf(entries.map(([k, v]) => [k, v.replace('READ', tokens.read!)] as [string, string]))
    expect((await streaming(client, name, metadata)).code).toBe(code)
    expect(sensors.handled).toBe(handled)
  })

  it('logs each refusal with its method and reason', () => {
    expect(sensors.refusals).toContain('/demo.SensorService/GetReading ERR_TOKEN_MISSING')
    expect(sensors.refusals).toContain('/demo.SensorService/Unlisted ERR_ROUTE_UNKNOWN')
  })

  it('ends a server stream with UNAUTHENTICATED within a second of its token being revoked', async () => {
    const token = await auth.token('dashboard', { grant_type: 'client_credentials', scope: 'sensor.read' })
    const cancelled = sensors.feedsCancelled
    const feed = collect(client.Feed!({}, metadataOf(bearer(token))) as ClientReadableStream<Answer>)
    await new Promise((done) => setTimeout(done, 150))
    const revokedAt = Date.now()
    await auth.revoke('dashboard', token)
    const { messages, ended } = await feed
    expect(Date.now() - revokedAt).toBeLessThan(1_000)
    expect(messages.length).toBeGreaterThan(0)
    expect(ended).toMatchObject({ code: status.UNAUTHENTICATED, details: 'the token has been revoked' })
    expect(sensors.feedsCancelled).toBe(cancelled + 1)
  })

  it('attaches a token from call credentials, asking its source on every call', async () => {
    let asked = 0
    const callCredentials = bearerCallCredentials(() => {
      asked += 1
      return tokens.read!
    })
    expect(await unary(client, 'GetReading', new Metadata(), { credentials: callCredentials })).toMatchObject({ code: status.OK, value: { subject: 'dashboard' } })
    expect(await streaming(client, 'Feed', new Metadata())).toMatchObject({ code: status.UNAUTHENTICATED })
    expect(asked).toBe(1)
  })

  it('attaches a scope token beside the caller token', async () => {
    const callCredentials = bearerCallCredentials(() => tokens.write!, { scopeToken: () => Promise.resolve(tokens.orderOwn!) })
    expect(await unary(client, 'GetReading', new Metadata(), { credentials: callCredentials })).toMatchObject({
      code: status.OK,
      value: { subject: 'dashboard', grantedBy: 'scope-token' },
    })
  })

  it('fails the call, without sending it, when the token source fails', async () => {
    const handled = sensors.handled
    const callCredentials = bearerCallCredentials(() => Promise.reject(new Error('token endpoint down')))
    const result = await unary(client, 'GetReading', new Metadata(), { credentials: callCredentials })
    expect(result.code).toBe(status.UNAVAILABLE)
    expect(result.details).toMatch(/token endpoint down/)
    expect(sensors.handled).toBe(handled)
  })
})

describe('gRPC: a stream outlives its token', () => {
  const key = es256Key('k1')
  let sensors: SensorServer
  let verifier: Verifier

  beforeAll(async () => {
    const jwk = { ...(await exportJWK(key.publicKey)), kid: key.kid, alg: 'ES256' } as StaticKey
    verifier = createVerifier({ issuer: 'https://issuer-a.test', audience: 'sensor-service', keys: [jwk], clockToleranceSec: 0 })
    sensors = await new SensorServer(verifier).start()
  })
  afterAll(async () => {
    await sensors.stop()
    verifier.close()
  })

  it('ends the stream with UNAUTHENTICATED when the token expires', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = forge(json({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }), json(claimsAt(now, { aud: 'sensor-service', scope: 'sensor.read', exp: now + 2 })), { key })
    const client = sensors.client()
    const started = Date.now()
    const { messages, ended } = await collect(client.Feed!({}, metadataOf([['authorization', `Bearer ${token}`]])) as ClientReadableStream<Answer>)
    client.close()
    expect(ended).toMatchObject({ code: status.UNAUTHENTICATED, details: 'the token has expired' })
    expect(messages.length).toBeGreaterThan(10)
    // Ended at expiry: not before the token's last second, and promptly after it.
    expect(Date.now()).toBeGreaterThanOrEqual((now + 2) * 1000)
    expect(Date.now() - started).toBeLessThan(4_000)
  })
})
