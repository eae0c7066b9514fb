import { readFileSync, writeFileSync } from 'node:fs'
import { Command } from 'commander'
import { pino } from 'pino'
import { CaService, CertificateAuthority, initCa, newWorkloadKey, revocationReasons, startCaServer } from '@meshguard/pki'
import { openStore } from '@meshguard/auth-server'
import { caDir, caPassphrase, withCa } from '../ca-runtime.js'
import { action, collect, configFrom, type StateOptions } from '../runtime.js'
import { stateOptions } from './state-options.js'

interface IssueOptions extends StateOptions {
  id: string
  dns?: string[]
  ttl?: string
  csr?: string
  cert: string
  key?: string
}

/** `meshguard ca`: the internal certificate authority for workload identities. */
export function caCommand(): Command {
  const ca = new Command('ca').description('the certificate authority: workload identities (SPIFFE) for mutual TLS')

  stateOptions(ca.command('init').description('create the root and intermediate CA for a trust domain'))
    .requiredOption('--trust-domain <name>', 'SPIFFE trust domain, e.g. example.org')
    .action(
      action(async (options: StateOptions & { trustDomain: string }) => {
        const config = configFrom(options)
        const created = await initCa({ dir: caDir(config), trustDomain: options.trustDomain, passphrase: caPassphrase(config) })
        console.log(`created the CA for spiffe://${created.trustDomain} in ${caDir(config)}`)
        console.log(`trust bundle: ${caDir(config)}/bundle.pem`)
      }),
    )

  stateOptions(ca.command('join-token').description('a one-time token with which a workload obtains its first certificate'))
    .requiredOption('--id <spiffe-id>', 'the one identity the token is for')
    .option('--dns <name>', 'a DNS name the certificate may carry (repeatable)', collect)
    .option('--ttl <seconds>', 'how long the token is valid (default 3600)')
    .action(
      action(async (options: StateOptions & { id: string; dns?: string[]; ttl?: string }) => {
        await withCa(options, async (service) => {
          const { token, expiresAt } = await service.createJoinToken({ spiffeId: options.id, dnsNames: options.dns ?? [], ...seconds('ttl', options.ttl) })
          console.log(token)
          console.error(`for ${options.id}, once, until ${new Date(expiresAt * 1000).toISOString()}`)
        })
      }),
    )

  stateOptions(ca.command('issue').description('issue a workload certificate offline (for tests and scripts)'))
    .requiredOption('--id <spiffe-id>', 'the identity to certify')
    .option('--dns <name>', 'a DNS name to add (repeatable)', collect)
    .option('--ttl <seconds>', 'lifetime (default 86400)')
    .option('--csr <file>', 'certify this CSR instead of generating a key')
    .requiredOption('--cert <file>', 'where to write the certificate chain (PEM)')
    .option('--key <file>', 'where to write the generated private key (PEM); required without --csr')
    .action(
      action(async (options: IssueOptions) => {
        if (options.csr === undefined && options.key === undefined) throw new Error('give --key to receive the generated key, or --csr to certify your own')
        await withCa(options, async (service) => {
          const generated = options.csr === undefined ? await newWorkloadKey(options.id, options.dns ?? []) : undefined
          const csr = generated?.csrPem ?? readFileSync(options.csr!, 'utf8')
          const issued = await service.issueOffline({ csr, identity: options.id, dnsNames: options.dns ?? [], ...seconds('ttl', options.ttl) })
          writeFileSync(options.cert, issued.chainPem)
          if (generated) writeFileSync(options.key!, generated.keyPem, { mode: 0o600 })
          console.log(`issued ${issued.serialNumber} for ${issued.spiffeId.uri}, valid until ${issued.notAfter.toISOString()}`)
        })
      }),
    )

  stateOptions(ca.command('revoke').description('revoke a certificate: it is refused at the next handshake'))
    .argument('<serial>', 'the serial number, in hex')
    .option('--reason <reason>', `one of ${revocationReasons.join(', ')}`, 'unspecified')
    .action(
      action(async (serial: string, options: StateOptions & { reason: string }) => {
        await withCa(options, async (service) => {
          await service.revoke(serial, options.reason)
          console.log(`revoked ${serial.toLowerCase()}; running CA servers publish it within their CRL refresh interval`)
        })
      }),
    )

  stateOptions(ca.command('bundle').description('print the trust bundle (PEM)')).action(
    action(async (options: StateOptions) => {
      const config = configFrom(options)
      process.stdout.write(readFileSync(`${caDir(config)}/bundle.pem`, 'utf8'))
      await Promise.resolve()
    }),
  )

  stateOptions(ca.command('serve').description('run the issuance service over HTTPS: join, renew, bundle, CRL'))
    .option('--port <port>', 'port to listen on', '4100')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--dns <name>', 'a DNS name for the server certificate besides localhost (repeatable)', collect)
    .option('--crl-refresh <seconds>', 'how often the CRL is rebuilt from the store, taking in revocations made elsewhere', '10')
    .action(
      action(async (options: StateOptions & { port: string; host: string; dns?: string[]; crlRefresh: string }) => {
        const config = configFrom(options)
        const logger = pino({ level: config.log.level })
        const store = await openStore(config)
        const authority = await CertificateAuthority.load({ dir: caDir(config), passphrase: caPassphrase(config) })
        const service = new CaService({
          ca: authority,
          store,
          audit: { record: (event) => void store.appendAudit([event]) },
          crlRefreshMs: (seconds('crl-refresh', options.crlRefresh).ttlSec ?? 10) * 1000,
        })
        const server = await startCaServer({ service, host: options.host, port: Number(options.port), dnsNames: options.dns ?? [], logger })
        logger.info({ url: server.url, spiffeId: server.spiffeId }, 'CA listening')
        console.log(`CA serving on ${server.url} as ${server.spiffeId}`)
        const stop = () => {
          server
            .close()
            .then(() => store.close())
            .then(
              () => process.exit(0),
              () => process.exit(1),
            )
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      }),
    )
  return ca
}

function seconds(name: string, value: string | undefined): { ttlSec?: number } {
  if (value === undefined) return {}
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a whole number of seconds`)
  return { ttlSec: n }
}
