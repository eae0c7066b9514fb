// Original file: sensor.proto

/**
 * The kinds of sensor the demo simulates.
 */
export const SensorType = {
  SENSOR_TYPE_UNSPECIFIED: 'SENSOR_TYPE_UNSPECIFIED',
  /**
   * Temperature and humidity.
   */
  DHT22: 'DHT22',
  /**
   * Ultrasonic distance.
   */
  HC_SR04: 'HC_SR04',
} as const;

/**
 * The kinds of sensor the demo simulates.
 */
export type SensorType =
  | 'SENSOR_TYPE_UNSPECIFIED'
  | 0
  /**
   * Temperature and humidity.
   */
  | 'DHT22'
  | 1
  /**
   * Ultrasonic distance.
   */
  | 'HC_SR04'
  | 2

/**
 * The kinds of sensor the demo simulates.
 */
export type SensorType__Output = typeof SensorType[keyof typeof SensorType]
