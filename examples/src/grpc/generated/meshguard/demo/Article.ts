// Original file: article.proto

import type { Long } from '@grpc/proto-loader';

/**
 * An article for sale.
 */
export interface Article {
  'id'?: (number);
  'description'?: (string);
  /**
   * In cents.
   */
  'price'?: (number | string | Long);
}

/**
 * An article for sale.
 */
export interface Article__Output {
  'id': (number);
  'description': (string);
  /**
   * In cents.
   */
  'price': (string);
}
