/** Letters, combining marks, digits and `. _ @ + -` (so an e-mail address fits), 1 to 100 of them. */
const USERNAME = /^[\p{L}\p{M}\p{N}._@+-]{1,100}$/u

/**
 * The canonical form of a username, in which it is stored and looked up: Unicode NFKC (so
 * full-width and compatibility characters fold to their ordinary form), then lower case
 * (locale-independent), then NFKC again since lower-casing can denormalise. `Alice`,
 * `ALICE` and full-width `Ａｌｉｃｅ` are one account.
 *
 * @returns undefined when the name has characters outside letters, marks, digits and `._@+-`,
 *   or is empty or longer than 100 characters.
 *
 * @example
 * ```ts
 * canonicalUsername('Ａｌｉｃｅ') // 'alice'
 * ```
 */
export function canonicalUsername(input: string): string | undefined {
  const canonical = input.normalize('NFKC').toLowerCase().normalize('NFKC')
  return USERNAME.test(canonical) ? canonical : undefined
}
