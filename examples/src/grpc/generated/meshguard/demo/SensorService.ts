// Original file: sensor.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { FeedRequest as _meshguard_demo_FeedRequest, FeedRequest__Output as _meshguard_demo_FeedRequest__Output } from '../../meshguard/demo/FeedRequest.js';
import type { GetReadingRequest as _meshguard_demo_GetReadingRequest, GetReadingRequest__Output as _meshguard_demo_GetReadingRequest__Output } from '../../meshguard/demo/GetReadingRequest.js';
import type { Reading as _meshguard_demo_Reading, Reading__Output as _meshguard_demo_Reading__Output } from '../../meshguard/demo/Reading.js';

/**
 * Simulated sensors: one reading on request, or a feed of readings.
 */
export interface SensorServiceClient extends grpc.Client {
  /**
   * A reading every interval until the client cancels, or the caller's token expires or is
   * revoked (UNAUTHENTICATED). Requires the `sensor.read` scope.
   */
  Feed(argument: _meshguard_demo_FeedRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_meshguard_demo_Reading__Output>;
  Feed(argument: _meshguard_demo_FeedRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_meshguard_demo_Reading__Output>;
  /**
   * A reading every interval until the client cancels, or the caller's token expires or is
   * revoked (UNAUTHENTICATED). Requires the `sensor.read` scope.
   */
  feed(argument: _meshguard_demo_FeedRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_meshguard_demo_Reading__Output>;
  feed(argument: _meshguard_demo_FeedRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_meshguard_demo_Reading__Output>;
  
  /**
   * The sensor's current reading. Requires the `sensor.read` scope.
   */
  GetReading(argument: _meshguard_demo_GetReadingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Reading__Output>): grpc.ClientUnaryCall;
  GetReading(argument: _meshguard_demo_GetReadingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_Reading__Output>): grpc.ClientUnaryCall;
  GetReading(argument: _meshguard_demo_GetReadingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Reading__Output>): grpc.ClientUnaryCall;
  GetReading(argument: _meshguard_demo_GetReadingRequest, callback: grpc.requestCallback<_meshguard_demo_Reading__Output>): grpc.ClientUnaryCall;
  /**
   * The sensor's current reading. Requires the `sensor.read` scope.
   */
  getReading(argument: _meshguard_demo_GetReadingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Reading__Output>): grpc.ClientUnaryCall;
  getReading(argument: _meshguard_demo_GetReadingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_Reading__Output>): grpc.ClientUnaryCall;
  getReading(argument: _meshguard_demo_GetReadingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Reading__Output>): grpc.ClientUnaryCall;
  getReading(argument: _meshguard_demo_GetReadingRequest, callback: grpc.requestCallback<_meshguard_demo_Reading__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Simulated sensors: one reading on request, or a feed of readings.
 */
export interface SensorServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * A reading every interval until the client cancels, or the caller's token expires or is
   * revoked (UNAUTHENTICATED). Requires the `sensor.read` scope.
   */
  Feed: grpc.handleServerStreamingCall<_meshguard_demo_FeedRequest__Output, _meshguard_demo_Reading>;
  
  /**
   * The sensor's current reading. Requires the `sensor.read` scope.
   */
  GetReading: grpc.handleUnaryCall<_meshguard_demo_GetReadingRequest__Output, _meshguard_demo_Reading>;
  
}

export interface SensorServiceDefinition extends grpc.ServiceDefinition {
  Feed: MethodDefinition<_meshguard_demo_FeedRequest, _meshguard_demo_Reading, _meshguard_demo_FeedRequest__Output, _meshguard_demo_Reading__Output>
  GetReading: MethodDefinition<_meshguard_demo_GetReadingRequest, _meshguard_demo_Reading, _meshguard_demo_GetReadingRequest__Output, _meshguard_demo_Reading__Output>
}
