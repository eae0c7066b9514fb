import { Channel, InterceptingCall, type ChannelCredentials, type ChannelOptions, type Interceptor } from '@grpc/grpc-js'
import { bearerCallCredentials } from '@meshguard/service-kit/grpc'
import type { ArticleServiceClient } from './generated/meshguard/demo/ArticleService.js'
import type { OrderServiceClient } from './generated/meshguard/demo/OrderService.js'
import type { SensorServiceClient } from './generated/meshguard/demo/SensorService.js'
import { loadDemoProtos } from './load-demo-protos.js'

export interface GrpcDemoClientOptions {
  /**
   * The transport: `credentials.createInsecure()` on the low tier; above it, the kit's
   * `mtlsChannelCredentials(identity, { expect: [the server's SPIFFE ID], tier })`.
   */
  credentials: ChannelCredentials
  /**
   * The bearer token every call carries unless its own `credentials` option says otherwise; asked
   * each call, so give a cached source such as `ClientCredentials`. Without it, calls carry none.
   */
  token?: (() => string | Promise<string>) | undefined
  /** An `x-scope-token` to send beside it (seed 004). */
  scopeToken?: (() => string | Promise<string>) | undefined
  channelOptions?: ChannelOptions | undefined
}

/** Typed clients of the demo's three services, sharing one channel. */
export interface GrpcDemoClient {
  readonly sensors: SensorServiceClient
  readonly articles: ArticleServiceClient
  readonly orders: OrderServiceClient
  /** Closes the channel; calls in flight are cancelled. */
  close(): void
}

/**
 * Clients of the gRPC demo at `address` (`host:port`) over one channel.
 *
 * @example
 * const demo = grpcDemoClient('127.0.0.1:4040', { credentials: credentials.createInsecure(), token: () => tokens.get() })
 * demo.sensors.GetReading({ sensor_id: 'greenhouse-temperature' }, (err, reading) => { ... })
 * demo.close()
 */
export function grpcDemoClient(address: string, options: GrpcDemoClientOptions): GrpcDemoClient {
  const { credentials, token, scopeToken, channelOptions = {} } = options
  const { SensorService, ArticleService, OrderService } = loadDemoProtos()
  const channel = new Channel(address, credentials, channelOptions)
  const interceptors: Interceptor[] = []
  if (token !== undefined) {
    const bearer = bearerCallCredentials(token, { ...(scopeToken && { scopeToken }) })
    interceptors.push((callOptions, nextCall) => new InterceptingCall(nextCall({ ...callOptions, credentials: callOptions.credentials ?? bearer })))
  }
  const shared = { channelOverride: channel, interceptors }
  return {
    sensors: new SensorService(address, credentials, shared),
    articles: new ArticleService(address, credentials, shared),
    orders: new OrderService(address, credentials, shared),
    close() {
      channel.close()
    },
  }
}
