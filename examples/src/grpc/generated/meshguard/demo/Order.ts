// Original file: order.proto

import type { OrderLine as _meshguard_demo_OrderLine, OrderLine__Output as _meshguard_demo_OrderLine__Output } from '../../meshguard/demo/OrderLine.js';

/**
 * An order: a name and its lines.
 */
export interface Order {
  'id'?: (number);
  'name'?: (string);
  'lines'?: (_meshguard_demo_OrderLine)[];
}

/**
 * An order: a name and its lines.
 */
export interface Order__Output {
  'id': (number);
  'name': (string);
  'lines': (_meshguard_demo_OrderLine__Output)[];
}
