// Original file: article.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The article to add.
 */
export interface CreateArticleRequest {
  'description'?: (string);
  /**
   * In cents; not negative.
   */
  'price'?: (number | string | Long);
}

/**
 * The article to add.
 */
export interface CreateArticleRequest__Output {
  'description': (string);
  /**
   * In cents; not negative.
   */
  'price': (string);
}
