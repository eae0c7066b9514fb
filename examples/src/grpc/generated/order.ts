import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CreateOrderRequest as _meshguard_demo_CreateOrderRequest, CreateOrderRequest__Output as _meshguard_demo_CreateOrderRequest__Output } from './meshguard/demo/CreateOrderRequest.js';
import type { GetOrderRequest as _meshguard_demo_GetOrderRequest, GetOrderRequest__Output as _meshguard_demo_GetOrderRequest__Output } from './meshguard/demo/GetOrderRequest.js';
import type { Order as _meshguard_demo_Order, Order__Output as _meshguard_demo_Order__Output } from './meshguard/demo/Order.js';
import type { OrderLine as _meshguard_demo_OrderLine, OrderLine__Output as _meshguard_demo_OrderLine__Output } from './meshguard/demo/OrderLine.js';
import type { OrderServiceClient as _meshguard_demo_OrderServiceClient, OrderServiceDefinition as _meshguard_demo_OrderServiceDefinition } from './meshguard/demo/OrderService.js';
import type { Product as _meshguard_demo_Product, Product__Output as _meshguard_demo_Product__Output } from './meshguard/demo/Product.js';
import type { WatchOrdersRequest as _meshguard_demo_WatchOrdersRequest, WatchOrdersRequest__Output as _meshguard_demo_WatchOrdersRequest__Output } from './meshguard/demo/WatchOrdersRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  meshguard: {
    demo: {
      CreateOrderRequest: MessageTypeDefinition<_meshguard_demo_CreateOrderRequest, _meshguard_demo_CreateOrderRequest__Output>
      GetOrderRequest: MessageTypeDefinition<_meshguard_demo_GetOrderRequest, _meshguard_demo_GetOrderRequest__Output>
      Order: MessageTypeDefinition<_meshguard_demo_Order, _meshguard_demo_Order__Output>
      OrderLine: MessageTypeDefinition<_meshguard_demo_OrderLine, _meshguard_demo_OrderLine__Output>
      /**
       * Orders held in memory.
       */
      OrderService: SubtypeConstructor<typeof grpc.Client, _meshguard_demo_OrderServiceClient> & { service: _meshguard_demo_OrderServiceDefinition }
      Product: MessageTypeDefinition<_meshguard_demo_Product, _meshguard_demo_Product__Output>
      WatchOrdersRequest: MessageTypeDefinition<_meshguard_demo_WatchOrdersRequest, _meshguard_demo_WatchOrdersRequest__Output>
    }
  }
}

