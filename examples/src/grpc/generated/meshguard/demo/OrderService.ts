// Original file: order.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateOrderRequest as _meshguard_demo_CreateOrderRequest, CreateOrderRequest__Output as _meshguard_demo_CreateOrderRequest__Output } from '../../meshguard/demo/CreateOrderRequest.js';
import type { GetOrderRequest as _meshguard_demo_GetOrderRequest, GetOrderRequest__Output as _meshguard_demo_GetOrderRequest__Output } from '../../meshguard/demo/GetOrderRequest.js';
import type { Order as _meshguard_demo_Order, Order__Output as _meshguard_demo_Order__Output } from '../../meshguard/demo/Order.js';
import type { WatchOrdersRequest as _meshguard_demo_WatchOrdersRequest, WatchOrdersRequest__Output as _meshguard_demo_WatchOrdersRequest__Output } from '../../meshguard/demo/WatchOrdersRequest.js';

/**
 * Orders held in memory.
 */
export interface OrderServiceClient extends grpc.Client {
  /**
   * Places an order; the server assigns the ids of the order and its lines. Requires `order.write`.
   */
  CreateOrder(argument: _meshguard_demo_CreateOrderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  CreateOrder(argument: _meshguard_demo_CreateOrderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  CreateOrder(argument: _meshguard_demo_CreateOrderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  CreateOrder(argument: _meshguard_demo_CreateOrderRequest, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  /**
   * Places an order; the server assigns the ids of the order and its lines. Requires `order.write`.
   */
  createOrder(argument: _meshguard_demo_CreateOrderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  createOrder(argument: _meshguard_demo_CreateOrderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  createOrder(argument: _meshguard_demo_CreateOrderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  createOrder(argument: _meshguard_demo_CreateOrderRequest, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  
  /**
   * One order by id, or NOT_FOUND. Requires `order.read`.
   */
  GetOrder(argument: _meshguard_demo_GetOrderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  GetOrder(argument: _meshguard_demo_GetOrderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  GetOrder(argument: _meshguard_demo_GetOrderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  GetOrder(argument: _meshguard_demo_GetOrderRequest, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  /**
   * One order by id, or NOT_FOUND. Requires `order.read`.
   */
  getOrder(argument: _meshguard_demo_GetOrderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  getOrder(argument: _meshguard_demo_GetOrderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  getOrder(argument: _meshguard_demo_GetOrderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  getOrder(argument: _meshguard_demo_GetOrderRequest, callback: grpc.requestCallback<_meshguard_demo_Order__Output>): grpc.ClientUnaryCall;
  
  /**
   * The orders placed so far, then each new one as it is placed, until the client cancels or the
   * caller's token expires or is revoked (UNAUTHENTICATED). Requires `order.read`.
   */
  WatchOrders(argument: _meshguard_demo_WatchOrdersRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_meshguard_demo_Order__Output>;
  WatchOrders(argument: _meshguard_demo_WatchOrdersRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_meshguard_demo_Order__Output>;
  /**
   * The orders placed so far, then each new one as it is placed, until the client cancels or the
   * caller's token expires or is revoked (UNAUTHENTICATED). Requires `order.read`.
   */
  watchOrders(argument: _meshguard_demo_WatchOrdersRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_meshguard_demo_Order__Output>;
  watchOrders(argument: _meshguard_demo_WatchOrdersRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_meshguard_demo_Order__Output>;
  
}

/**
 * Orders held in memory.
 */
export interface OrderServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Places an order; the server assigns the ids of the order and its lines. Requires `order.write`.
   */
  CreateOrder: grpc.handleUnaryCall<_meshguard_demo_CreateOrderRequest__Output, _meshguard_demo_Order>;
  
  /**
   * One order by id, or NOT_FOUND. Requires `order.read`.
   */
  GetOrder: grpc.handleUnaryCall<_meshguard_demo_GetOrderRequest__Output, _meshguard_demo_Order>;
  
  /**
   * The orders placed so far, then each new one as it is placed, until the client cancels or the
   * caller's token expires or is revoked (UNAUTHENTICATED). Requires `order.read`.
   */
  WatchOrders: grpc.handleServerStreamingCall<_meshguard_demo_WatchOrdersRequest__Output, _meshguard_demo_Order>;
  
}

export interface OrderServiceDefinition extends grpc.ServiceDefinition {
  CreateOrder: MethodDefinition<_meshguard_demo_CreateOrderRequest, _meshguard_demo_Order, _meshguard_demo_CreateOrderRequest__Output, _meshguard_demo_Order__Output>
  GetOrder: MethodDefinition<_meshguard_demo_GetOrderRequest, _meshguard_demo_Order, _meshguard_demo_GetOrderRequest__Output, _meshguard_demo_Order__Output>
  WatchOrders: MethodDefinition<_meshguard_demo_WatchOrdersRequest, _meshguard_demo_Order, _meshguard_demo_WatchOrdersRequest__Output, _meshguard_demo_Order__Output>
}
