export { mtlsServerCredentials, grpcPeerId } from './grpc-server-credentials.js'
export type { GrpcServerMtlsOptions } from './grpc-server-credentials.js'
export { mtlsChannelCredentials } from './grpc-channel-credentials.js'
export type { GrpcChannelMtlsOptions } from './grpc-channel-credentials.js'
