import { fileURLToPath } from 'node:url'
import { loadPackageDefinition } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'
import type { ProtoGrpcType as ArticleProto } from './generated/article.js'
import { loaderOptions } from './generated/loader-options.js'
import type { ProtoGrpcType as OrderProto } from './generated/order.js'
import type { ProtoGrpcType as SensorProto } from './generated/sensor.js'

/** The repository's `proto/` directory: the demo's service definitions. */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url))

/** The files of {@link PROTO_DIR} the demo serves. */
export const PROTO_FILES = ['sensor.proto', 'article.proto', 'order.proto'] as const

/** The `meshguard.demo` package: service constructors (clients, with their `service` definitions) and message types. */
export type DemoProtos = (SensorProto & ArticleProto & OrderProto)['meshguard']['demo']

/**
 * Loads the demo's protos with the options their generated types were made for.
 *
 * @example
 * const { SensorService } = loadDemoProtos()
 * server.addService(SensorService.service, handlers)
 */
export function loadDemoProtos(): DemoProtos {
  const definition = loadSync([...PROTO_FILES], { ...loaderOptions, includeDirs: [PROTO_DIR] })
  return (loadPackageDefinition(definition) as unknown as SensorProto & ArticleProto & OrderProto).meshguard.demo
}
