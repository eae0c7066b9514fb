// Original file: order.proto

import type { Long } from '@grpc/proto-loader';

/**
 * What a line orders.
 */
export interface Product {
  'id'?: (number);
  'description'?: (string);
  /**
   * In cents.
   */
  'price'?: (number | string | Long);
}

/**
 * What a line orders.
 */
export interface Product__Output {
  'id': (number);
  'description': (string);
  /**
   * In cents.
   */
  'price': (string);
}
