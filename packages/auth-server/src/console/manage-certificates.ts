import { join } from 'node:path'
import { CaService, CertificateAuthority, revocationReasons } from '@meshguard/pki'
import { z } from 'zod'
import type { ServerContext } from '../context.js'
import { resolveKeyEncryptionKey } from '../crypto/key-encryption.js'
import { parseInput } from './console-error.js'
import { audited, type ConsoleRoute } from './console-route.js'

const revokeInput = z.strictObject({
  reason: z.enum(revocationReasons as [string, ...string[]]).default('unspecified'),
})

/**
 * `/console/api/certificates`: the workload certificates the CA recorded, and revocation through
 * the CA service, as `meshguard ca revoke` does: the CA in `<dataDir>/ca`, its keys sealed under
 * the key encryption key. A CA server publishes the revocation within its CRL refresh interval.
 */
export function certificateRoutes(ctx: ServerContext): ConsoleRoute[] {
  let service: Promise<CaService> | undefined
  const caService = () => {
    service ??= CertificateAuthority.load({ dir: join(ctx.config.dataDir, 'ca'), passphrase: resolveKeyEncryptionKey(ctx.config).key.toString('base64url') }).then(
      (ca) => new CaService({ ca, store: ctx.store, audit: ctx.audit, now: () => ctx.clock.now() }),
    )
    // A CA created after a failed attempt is found by the next one.
    service.catch(() => {
      service = undefined
    })
    return service
  }
  return [
    {
      method: 'GET',
      url: '/certificates',
      handler: () => ctx.store.listCertificates(),
    },
    {
      method: 'POST',
      url: '/certificates/:serial/revoke',
      handler: async ({ admin, params, body }) => {
        const { reason } = parseInput(revokeInput, body ?? {})
        const serialNumber = params.serial ?? ''
        await audited(ctx, admin, 'certificate.revoked', { serialNumber, revocation_reason: reason }, async () => {
          await (await caService()).revoke(serialNumber, reason)
        })
        return { revoked: serialNumber.toLowerCase().replace(/:/g, ''), reason }
      },
    },
  ]
}
