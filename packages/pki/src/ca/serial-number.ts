import { randomBytes } from 'node:crypto'

/** RFC 5280 §4.1.2.2: a positive integer of at most 20 octets; 128 random bits (CA/B BR §7.1 asks 64). */
export function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return bytes.toString('hex')
}
