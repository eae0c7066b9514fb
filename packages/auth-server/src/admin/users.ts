import { randomUUID } from 'node:crypto'
import { hashPassword, type ScryptParams } from '../crypto/password-hash.js'
import { MeshguardError } from '../errors.js'
import type { Store, UserRecord } from '../store/store.js'
import { accountKey } from '../users/login-throttle.js'
import { passwordProblems } from '../users/password-policy.js'
import { canonicalUsername } from '../users/username.js'

export interface UserInput {
  /** Stored in canonical form, see `canonicalUsername`. */
  username: string
  password: string
  name?: string | undefined
  email?: string | undefined
  /** Whether the user may sign in to the console and administer the server; default false. */
  admin?: boolean | undefined
}

/** An e-mail address as far as a registration can tell: one `@`, no spaces, a dot in the domain. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u

/**
 * Registers an end user with a scrypt-hashed password.
 *
 * @throws MeshguardError `ERR_INVALID_ARGUMENT` listing every problem (username, password
 *   policy, name, e-mail); `ERR_STORE_CONFLICT` when the username is taken.
 *
 * @example
 * ```ts
 * await registerUser(store, { username: 'alice', password, email: 'alice@example.com' }, now)
 * ```
 */
export async function registerUser(store: Pick<Store, 'createUser'>, input: UserInput, now: number, params?: Readonly<ScryptParams>): Promise<UserRecord> {
  const username = canonicalUsername(input.username)
  const problems: string[] = []
  if (username === undefined) problems.push(`username "${input.username}" must be 1-100 letters, digits or ._@+-`)
  problems.push(...passwordProblems(input.password, input.username))
  if (input.name !== undefined && (input.name.trim() === '' || input.name.length > 200)) problems.push('name must be 1-200 characters')
  if (input.email !== undefined && (!EMAIL.test(input.email) || input.email.length > 254)) problems.push(`email "${input.email}" is not an e-mail address`)
  fail(problems)
  const user: UserRecord = {
    id: randomUUID(),
    username: username!,
    passwordHash: await hashPassword(input.password, params),
    name: input.name ?? null,
    email: input.email ?? null,
    createdAt: now,
    updatedAt: now,
    admin: input.admin ?? false,
  }
  await store.createUser(user)
  return user
}

/**
 * Replaces a user's password and lifts any throttling of the account.
 *
 * @throws MeshguardError `ERR_INVALID_ARGUMENT` for a refused password, `ERR_STORE_NOT_FOUND` for an unknown user.
 */
export async function changeUserPassword(store: Store, username: string, password: string, now: number, params?: Readonly<ScryptParams>): Promise<void> {
  const canonical = canonicalUsername(username)
  fail(passwordProblems(password, username))
  if (canonical === undefined || (await store.getUserByUsername(canonical)) === undefined) {
    throw new MeshguardError('ERR_STORE_NOT_FOUND', `no user "${username}"`)
  }
  await store.updateUserPassword(canonical, await hashPassword(password, params), now)
  await store.clearLoginFailures(accountKey(canonical))
}

/**
 * Deletes a user with their sessions and consents and the failures counted against the
 * account, and revokes their grants.
 *
 * @param now when the user's grants and their access tokens are revoked.
 * @throws MeshguardError `ERR_STORE_NOT_FOUND` for an unknown user.
 */
export async function deleteUser(store: Store, username: string, now: number): Promise<void> {
  const canonical = canonicalUsername(username)
  if (canonical === undefined || !(await store.deleteUser(canonical, now))) throw new MeshguardError('ERR_STORE_NOT_FOUND', `no user "${username}"`)
  await store.clearLoginFailures(accountKey(canonical))
}

function fail(problems: string[]): void {
  if (problems.length > 0) throw new MeshguardError('ERR_INVALID_ARGUMENT', problems.join('; '))
}
