// Original file: order.proto


/**
 * Which order to get.
 */
export interface GetOrderRequest {
  'id'?: (number);
}

/**
 * Which order to get.
 */
export interface GetOrderRequest__Output {
  'id': (number);
}
