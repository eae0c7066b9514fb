// Original file: sensor.proto


/**
 * Which sensor to read.
 */
export interface GetReadingRequest {
  'sensor_id'?: (string);
}

/**
 * Which sensor to read.
 */
export interface GetReadingRequest__Output {
  'sensor_id': (string);
}
