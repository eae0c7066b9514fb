import { isTrustDomain, parseSpiffeId } from '@meshguard/pki'
import { z } from 'zod'
import { integer } from './integer.js'
import { instanceUrl, isLoopbackHost } from './url-checks.js'

const spiffeId = z.string().superRefine((value, ctx) => {
  const parsed = parseSpiffeId(value)
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `is not a SPIFFE ID: ${parsed}`, input: value })
  else if (parsed.path === '') ctx.addIssue({ code: 'custom', message: 'names a trust domain, not a workload', input: value })
})

/**
 * How the gateway talks to an upstream's `https` instances. `tls`: server authentication only,
 * against `caFile` (default: Node's CA store), by host name or `serverName`. `mtls`: the
 * gateway's workload certificate is presented, and the upstream must present one naming an
 * expected SPIFFE ID, chaining to the workload's trust bundle.
 */
export const upstreamTlsSchema = z.discriminatedUnion('mode', [
  z
    .object({
      mode: z.literal('tls'),
      /** PEM CA certificates the upstream's chain must lead to. Default: Node's bundled CAs. */
      caFile: z.string().min(1).optional(),
      /** SNI and the name the certificate must carry. Default: the instance's host. */
      serverName: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      mode: z.literal('mtls'),
      /** The SPIFFE ID (or IDs) the upstream's certificate must carry. Required. */
      spiffeId: z.union([spiffeId, z.array(spiffeId).min(1)]),
      /** The trust domain the upstream belongs to. Default: the gateway's own. */
      trustDomain: z.string().refine(isTrustDomain, 'must be a trust domain name').optional(),
    })
    .strict(),
])

export const upstreamSchema = z
  .object({
    /** `http(s)://host:port[/base/path]`, one per instance, taken in turn. Required, at least one. */
    instances: z.array(instanceUrl).min(1),
    /** Settings for `https` instances; an `https` instance without them is checked against Node's CA store. */
    tls: upstreamTlsSchema.optional(),
    /**
     * Plain `http` to a host that is not loopback sends the callers' tokens in clear: refused
     * unless set to `true`, as a written acknowledgement (e.g. a pod network already encrypted).
     */
    allowPlainHttp: z.boolean().default(false),
    /** Most open connections per instance (keep-alive). */
    connections: integer(1, 4096).default(64),
    connectTimeoutMs: integer(100, 120_000).default(5000),
    /** How long an idle upstream connection is kept; keep it below the upstream's own. */
    keepAliveTimeoutMs: integer(100, 600_000).default(4000),
    /**
     * An instance that failed `failures` times in a row (connection refused or reset, TLS or
     * SPIFFE refusal, timeout) is skipped for `cooldownMs`; any response resets the count.
     */
    passiveHealth: z
      .object({
        failures: integer(1, 100).default(1),
        cooldownMs: integer(0, 3_600_000).default(10_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((upstream, ctx) => {
    for (const [index, instance] of upstream.instances.entries()) {
      // Reported by the instance's own check.
      if (!URL.canParse(instance)) continue
      const url = new URL(instance)
      if (url.protocol === 'http:' && upstream.tls !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['instances', index], message: 'must be https when tls is set', input: instance })
      }
      if (url.protocol === 'http:' && !upstream.allowPlainHttp && !isLoopbackHost(url.hostname)) {
        ctx.addIssue({
          code: 'custom',
          path: ['instances', index],
          message: 'is plain http off loopback: tokens would travel in clear; use https (tls or mtls), or set allowPlainHttp: true',
          input: instance,
        })
      }
    }
  })

export type UpstreamConfig = z.output<typeof upstreamSchema>
export type UpstreamTlsConfig = z.output<typeof upstreamTlsSchema>
