import type { GrpcMethodPolicy } from '@meshguard/service-kit/grpc'

/**
 * The scopes each method of the demo's gRPC services needs, by full method path. Every method of
 * the three services has an entry (checked at start); the resource server `grpc-demo` defines
 * exactly the scopes named here.
 */
export const grpcDemoPolicy = {
  '/meshguard.demo.SensorService/GetReading': { scopes: ['sensor.read'] },
  '/meshguard.demo.SensorService/Feed': { scopes: ['sensor.read'] },
  '/meshguard.demo.ArticleService/Create': { scopes: ['article.write'] },
  '/meshguard.demo.ArticleService/Get': { scopes: ['article.read'] },
  '/meshguard.demo.ArticleService/List': { scopes: ['article.read'] },
  '/meshguard.demo.ArticleService/Delete': { scopes: ['article.write'] },
  '/meshguard.demo.OrderService/CreateOrder': { scopes: ['order.write'] },
  '/meshguard.demo.OrderService/GetOrder': { scopes: ['order.read'] },
  '/meshguard.demo.OrderService/WatchOrders': { scopes: ['order.read'] },
} as const satisfies Readonly<Record<string, GrpcMethodPolicy>>

/** Every scope {@link grpcDemoPolicy} names, once each, in order of first use. */
export const grpcDemoScopes: readonly string[] = [...new Set(Object.values(grpcDemoPolicy).flatMap((policy) => policy.scopes))]

/** The fully qualified names of the services {@link grpcDemoPolicy} covers. */
export const grpcDemoServices: readonly string[] = [...new Set(Object.keys(grpcDemoPolicy).map((path) => path.split('/')[1]!))]
