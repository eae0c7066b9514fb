/** The longest description an article or a product may have. */
export const MAX_DESCRIPTION_LENGTH = 200

/**
 * Why an article or a product is not acceptable, or `undefined`: a description of 1 to
 * {@link MAX_DESCRIPTION_LENGTH} characters (after trimming) and a price in cents that is not
 * negative (an int64, which the loader gives as a decimal string).
 *
 * @example
 * checkPricedItem({ description: 'DHT22', price: '-1' }, 'lines[0].product') // 'lines[0].product.price must not be negative'
 */
export function checkPricedItem(item: { description: string; price: string }, name: string): string | undefined {
  const description = item.description.trim()
  if (description === '' || description.length > MAX_DESCRIPTION_LENGTH) return `${name}.description must be 1 to ${MAX_DESCRIPTION_LENGTH} characters`
  if (!/^\d+$/.test(item.price)) return `${name}.price must not be negative`
  return undefined
}
