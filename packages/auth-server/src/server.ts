import { pino, type Logger } from 'pino'
import { TokenCache, type AccessTokenClaims } from '@meshguard/token'
import { AuditLog } from './audit/audit-log.js'
import { systemClock, type Clock } from './clock.js'
import { isLoopbackHost, type AuthServerConfig } from './config/schema.js'
import { issuerPath, type ServerContext } from './context.js'
import { resolveKeyEncryptionKey } from './crypto/key-encryption.js'
import { RevocationBus } from './events/revocation-bus.js'
import { RedisRevocationPublisher } from './events/redis-revocation-publisher.js'
import { Directory } from './directory/directory.js'
import { buildApp } from './http/build-app.js'
import { readMtlsCredentials } from './http/mtls-credentials.js'
import { MtlsListener } from './http/mtls-listener.js'
import { KeyManager } from './keys/key-manager.js'
import { Metrics } from './metrics.js'
import { openStore } from './store/open-store.js'
import type { Store } from './store/store.js'
import { ReferenceTokens } from './tokens/reference-tokens.js'
import { createUserAuthenticator } from './users/authenticate-user.js'
import type { FastifyInstance } from 'fastify'

export interface AuthServerDeps {
  clock?: Clock
  logger?: Logger
  /** An already-open store; by default one is opened from the configuration. */
  store?: Store
}

export interface AuthServer {
  readonly app: FastifyInstance
  /** The RFC 8705 mutual-TLS listener, when `mtls` is configured. */
  readonly mtls: MtlsListener | undefined
  readonly context: ServerContext
  /** Starts listening, on the mutual-TLS listener too; resolves to the issuer. */
  listen(): Promise<string>
  /** Stops accepting requests, finishes those in flight, flushes the audit log, closes the store. */
  close(): Promise<void>
}

/**
 * Opens the store, loads or creates the signing keys and builds the HTTP app.
 *
 * @example
 * const server = await createAuthServer(loadConfig())
 * const issuer = await server.listen()
 */
export async function createAuthServer(config: Readonly<AuthServerConfig>, deps: AuthServerDeps = {}): Promise<AuthServer> {
  const clock = deps.clock ?? systemClock
  const logger = deps.logger ?? pino({ level: config.log.level, base: { service: 'meshguard-auth-server' } })
  const kek = resolveKeyEncryptionKey(config)
  if (kek.source === 'generated-file') {
    logger.warn({ dataDir: config.dataDir }, 'generated a key encryption key in the data directory; configure MESHGUARD_KEY_ENCRYPTION_KEY in production')
  }
  // Read before anything is opened: a missing or broken file stops the server at once.
  const mtlsCredentials = config.mtls && (await readMtlsCredentials(config.mtls))
  const store = deps.store ?? (await openStore(config))
  const keys = new KeyManager({ store, kek: kek.key, signing: config.signing, tokens: config.tokens, clock, logger })
  try {
    await keys.init()
  } catch (err) {
    if (!deps.store) await store.close()
    throw err
  }
  const revocations = new RevocationBus()
  const directory = new Directory({
    store,
    clock,
    logger,
    ...config.state,
    onRevocationLearnt: (event) => {
      revocations.publish(event)
    },
  })
  try {
    await directory.refresh()
  } catch (err) {
    if (!deps.store) await store.close()
    throw err
  }
  // Subscribed after the first refresh, whose replay of every stored revocation is not news:
  // the publisher writes the full list to Redis when it connects.
  const redisRevocations =
    config.redis &&
    new RedisRevocationPublisher({ ...config.redis, bus: revocations, revoked: () => directory.revoked(), clock, logger })
  if (config.redis && isPlainRemoteRedis(config.redis.url)) {
    logger.warn('revocations are published to Redis over plain redis:// off loopback: anyone on the path can forge or drop them; use rediss://')
  }
  const audit = new AuditLog({ store, logger })
  const context: ServerContext = {
    config,
    store,
    directory,
    keys,
    clock,
    logger,
    audit,
    userAuthenticator: createUserAuthenticator({ store, clock, audit }),
    revocations,
    verifiedTokens: new TokenCache<AccessTokenClaims>(10_000),
    referenceTokens: new ReferenceTokens({ store, clock, logger }),
    metrics: new Metrics(),
    issuer: config.issuer ?? `http://${config.host}:${config.port}`,
    mtlsBaseUrl: config.mtls?.origin && `${new URL(config.mtls.origin).origin}${issuerPath(config.issuer)}`,
  }
  const app = buildApp(context)
  const mtls = config.mtls && mtlsCredentials ? new MtlsListener(context, config.mtls, mtlsCredentials) : undefined
  const purge = setInterval(() => {
    store.purgeExpired(Math.floor(clock.now() / 1000)).catch((err: unknown) => {
      logger.warn({ err }, 'could not purge expired records')
    })
  }, 60_000)
  purge.unref()

  return {
    app,
    mtls,
    context,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port })
      if (!config.issuer) context.issuer = address.replace('://localhost', '://127.0.0.1')
      if (mtls) {
        const mtlsAddress = await mtls.listen().catch(async (err: unknown) => {
          await app.close()
          throw err
        })
        context.mtlsBaseUrl ??= `${mtlsAddress}${issuerPath(config.issuer)}`
      }
      keys.start()
      directory.start()
      redisRevocations?.start()
      logger.info(
        { issuer: context.issuer, mtls: context.mtlsBaseUrl, store: store.kind, alg: config.signing.algorithm },
        'authorization server listening',
      )
      return context.issuer
    },
    async close() {
      clearInterval(purge)
      keys.stop()
      directory.stop()
      await Promise.all([app.close(), mtls?.close(), redisRevocations?.close()])
      await context.audit.close()
      if (!deps.store) await store.close()
    },
  }
}

function isPlainRemoteRedis(url: string): boolean {
  const { protocol, hostname } = new URL(url)
  return protocol === 'redis:' && !isLoopbackHost(hostname)
}
