// Original file: sensor.proto


/**
 * Which sensor to follow, and how often.
 */
export interface FeedRequest {
  'sensor_id'?: (string);
  /**
   * Milliseconds between readings; 0 for the server's default. Clamped to the server's bounds.
   */
  'interval_ms'?: (number);
}

/**
 * Which sensor to follow, and how often.
 */
export interface FeedRequest__Output {
  'sensor_id': (string);
  /**
   * Milliseconds between readings; 0 for the server's default. Clamped to the server's bounds.
   */
  'interval_ms': (number);
}
