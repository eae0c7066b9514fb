// Original file: sensor.proto

import type { SensorType as _meshguard_demo_SensorType, SensorType__Output as _meshguard_demo_SensorType__Output } from '../../meshguard/demo/SensorType.js';

/**
 * One measurement.
 */
export interface Reading {
  'sensor_id'?: (string);
  'sensor_type'?: (_meshguard_demo_SensorType);
  /**
   * E.g. "Cel", "%", "cm" (UCUM).
   */
  'unit'?: (string);
  'value'?: (number | string);
  /**
   * When it was taken, RFC 3339.
   */
  'measured_at'?: (string);
  /**
   * Position in a feed, from 0; 0 for a single reading.
   */
  'sequence'?: (number);
}

/**
 * One measurement.
 */
export interface Reading__Output {
  'sensor_id': (string);
  'sensor_type': (_meshguard_demo_SensorType__Output);
  /**
   * E.g. "Cel", "%", "cm" (UCUM).
   */
  'unit': (string);
  'value': (number);
  /**
   * When it was taken, RFC 3339.
   */
  'measured_at': (string);
  /**
   * Position in a feed, from 0; 0 for a single reading.
   */
  'sequence': (number);
}
