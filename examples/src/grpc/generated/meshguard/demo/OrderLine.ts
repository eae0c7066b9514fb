// Original file: order.proto

import type { Product as _meshguard_demo_Product, Product__Output as _meshguard_demo_Product__Output } from '../../meshguard/demo/Product.js';

/**
 * A quantity of one product.
 */
export interface OrderLine {
  'id'?: (number);
  'quantity'?: (number);
  'product'?: (_meshguard_demo_Product | null);
}

/**
 * A quantity of one product.
 */
export interface OrderLine__Output {
  'id': (number);
  'quantity': (number);
  'product': (_meshguard_demo_Product__Output | null);
}
