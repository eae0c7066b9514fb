import { MeshguardError } from '../errors.js'

/** Turns a PostgreSQL (23505) or SQLite unique violation into `ERR_STORE_CONFLICT`. */
export function conflictOr(error: unknown, message: string): unknown {
  if (!(error instanceof Error) || !('code' in error)) return error
  const { code } = error
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new MeshguardError('ERR_STORE_CONFLICT', message)
  }
  return error
}
