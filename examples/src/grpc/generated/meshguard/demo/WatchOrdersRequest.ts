// Original file: order.proto


/**
 * Every order: no filters.
 */
export interface WatchOrdersRequest {
}

/**
 * Every order: no filters.
 */
export interface WatchOrdersRequest__Output {
}
