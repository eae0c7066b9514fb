// Original file: order.proto

import type { OrderLine as _meshguard_demo_OrderLine, OrderLine__Output as _meshguard_demo_OrderLine__Output } from '../../meshguard/demo/OrderLine.js';

/**
 * The order to place; line ids are ignored. At least one line, each with a positive quantity and a product.
 */
export interface CreateOrderRequest {
  'name'?: (string);
  'lines'?: (_meshguard_demo_OrderLine)[];
}

/**
 * The order to place; line ids are ignored. At least one line, each with a positive quantity and a product.
 */
export interface CreateOrderRequest__Output {
  'name': (string);
  'lines': (_meshguard_demo_OrderLine__Output)[];
}
