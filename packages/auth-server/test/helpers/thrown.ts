/** What `action` throws; fails the test when it throws nothing. */
export function thrown(action: () => unknown): unknown {
  try {
    action()
  } catch (err) {
    return err
  }
  throw new Error('expected an error')
}
