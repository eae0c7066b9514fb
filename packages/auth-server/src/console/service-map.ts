import type { AuditDecision, AuditEvent, ResourceServerRecord } from '../store/store.js'

/** The name a call without a caller (no or an invalid token) is drawn from. */
export const ANONYMOUS_CALLER = '(no token)'

export interface MapNode {
  id: string
  /** A registered resource server, a service that reported calls, or only ever a caller. */
  kind: 'resource-server' | 'service' | 'caller'
}

/** The calls from one caller to one service. */
export interface MapEdge {
  from: string
  to: string
  allowed: number
  denied: number
  /** The latest call's. */
  decision: AuditDecision
  reason: string | null
  /** Milliseconds since the epoch. */
  ts: number
}

export interface ServiceMap {
  nodes: MapNode[]
  edges: MapEdge[]
}

/**
 * Services as nodes, calls as edges from caller to service, each edge carrying the decision of
 * its latest call. `calls` are `service.call` audit events newest first, as `queryAudit` returns
 * them (at equal times, the first listed is the later).
 *
 * @example
 * ```ts
 * serviceMap(await store.listResourceServers(), await store.queryAudit({ type: 'service.call' }, 2000))
 * ```
 */
export function serviceMap(resourceServers: readonly ResourceServerRecord[], calls: readonly AuditEvent[]): ServiceMap {
  const nodes = new Map<string, MapNode>()
  for (const { id } of resourceServers) nodes.set(id, { id, kind: 'resource-server' })
  const edges = new Map<string, MapEdge>()
  for (const call of [...calls].reverse().sort((a, b) => a.ts - b.ts)) {
    const service = call.details?.service
    if (call.type !== 'service.call' || typeof service !== 'string') continue
    const caller = call.clientId ?? ANONYMOUS_CALLER
    if (nodes.get(service)?.kind !== 'resource-server') nodes.set(service, { id: service, kind: 'service' })
    if (!nodes.has(caller)) nodes.set(caller, { id: caller, kind: 'caller' })
    const key = JSON.stringify([caller, service])
    const edge = edges.get(key) ?? { from: caller, to: service, allowed: 0, denied: 0, decision: call.decision, reason: null, ts: call.ts }
    if (call.decision === 'allow') edge.allowed += 1
    else edge.denied += 1
    edge.decision = call.decision
    edge.reason = call.reason ?? null
    edge.ts = call.ts
    edges.set(key, edge)
  }
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  return {
    nodes: [...nodes.values()].sort(byId),
    edges: [...edges.values()].sort((a, b) => byId({ id: `${a.from}\n${a.to}` }, { id: `${b.from}\n${b.to}` })),
  }
}
