import { z } from 'zod'

/**
 * An integer, given as a number or (from the environment) as a string of digits. Unlike
 * `z.coerce`, `null`, `''` and `' '` are refused rather than read as 0.
 */
export const integer = (min: number, max: number) =>
  z
    .union([z.number(), z.string().regex(/^-?\d+$/, 'must be an integer').transform(Number)])
    .pipe(z.number().int().min(min).max(max))
