import { join } from 'node:path'
import { resolveKeyEncryptionKey, type AuthServerConfig, type Store } from '@meshguard/auth-server'
import { CaService, CertificateAuthority } from '@meshguard/pki'
import { withStore, type StateOptions } from './runtime.js'

/** The CA lives in `<data dir>/ca`. */
export function caDir(config: Readonly<AuthServerConfig>): string {
  return join(config.dataDir, 'ca')
}

/** The CA's keys are sealed under the same key encryption key as the signing keys. */
export function caPassphrase(config: Readonly<AuthServerConfig>): string {
  return resolveKeyEncryptionKey(config).key.toString('base64url')
}

/** Opens the store and the CA in the data directory, runs `fn` with the CA service, closes both. */
export function withCa<T>(options: StateOptions, fn: (service: CaService, store: Store, config: Readonly<AuthServerConfig>) => Promise<T>): Promise<T> {
  return withStore(options, async (store, config) => {
    const ca = await CertificateAuthority.load({ dir: caDir(config), passphrase: caPassphrase(config) })
    const service = new CaService({ ca, store, audit: { record: (event) => void store.appendAudit([event]) } })
    return fn(service, store, config)
  })
}
