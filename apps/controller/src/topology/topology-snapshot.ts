import { createHash } from 'node:crypto';
import type { AgentAssignment } from '../../../../libs/contracts/src/index.js';
import { LayeredMap } from './layered-map.js';
import type { NodeEntity } from './node.entity.js';

/** A node as the in-memory topology holds it. */
export interface CachedNode {
  id: string;
  clusterId: string;
  host: string;
  port: number;
  role: NodeEntity['role'];
  priority: number;
  zone: string | null;
  /** The cluster epoch the role was recorded under. */
  roleEpoch: number;
}

/** A cluster as the in-memory topology holds it (with the Redis password opened, never sent to users). */
export interface CachedCluster {
  id: string;
  name: string;
  quorum: number;
  downAfterMs: number;
  epoch: number;
  autoFailover: boolean;
  requireMasterDeadEvidence: boolean;
  maintenanceUntil: Date | null;
  cooldownMs: number;
  failoverTimeoutMs: number;
  minReplicasToWrite: number;
  minReplicasMaxLagS: number;
  maxReplicaLagBytes: number;
  /** When the recorded master became master. */
  masterSince: Date | null;
  /** Names written to an external DNS server for the master, and their TTL (null: DNS_TTL). */
  dnsNames: string[];
  dnsTtl: number | null;
  redis: { username?: string; password?: string; tls: boolean };
  nodes: CachedNode[];
}

/** A registered agent as the in-memory topology holds it (what detection needs for its denominators). */
export interface CachedAgent {
  id: string;
  name: string;
  zone: string;
  /** Cluster names this agent watches; null = every cluster. */
  watchClusters: string[] | null;
}

/**
 * What a new snapshot changed: everything (a full load), or the clusters in `ids` (changed, added or
 * deleted) and, with `agents`, the registered agents. Listeners use it to update only what changed.
 */
export type TopologyChange = { kind: 'full' } | { kind: 'clusters'; ids: ReadonlySet<string>; agents: boolean; previous: TopologySnapshot };

/**
 * What a partial change did, by name: the clusters it names as they are now, and the names it removed
 * (a cluster deleted, whose name no cluster holds now). What every listener keyed by name needs.
 */
export function changedByName(
  snapshot: TopologySnapshot,
  change: { ids: ReadonlySet<string>; previous: TopologySnapshot },
): { current: CachedCluster[]; removed: string[] } {
  const current: CachedCluster[] = [];
  const removed: string[] = [];
  for (const id of change.ids) {
    const before = change.previous.clustersById.get(id);
    const after = snapshot.clustersById.get(id);
    if (before && !snapshot.clustersByName.has(before.name)) removed.push(before.name);
    if (after) current.push(after);
  }
  return { current, removed };
}

/** `host:port` as the address index keys it. */
export const addressKey = (host: string, port: number): string => `${host.toLowerCase()}:${port}`;

/**
 * One consistent picture of all clusters, nodes and registered agents; each reload makes a new one (never
 * changed in place). A snapshot derived from the one before it for a few clusters (`replacing`) copies
 * the previous indexes and changes only their entries, so a write costs little however many clusters exist.
 */
export class TopologySnapshot {
  readonly clustersById: LayeredMap<string, CachedCluster>;
  readonly clustersByName: LayeredMap<string, CachedCluster>;
  readonly nodesById: LayeredMap<string, CachedNode>;
  /** Every node by `host:port` (lower-case host), as the database's unique address constraint sees them. */
  readonly nodesByAddress: LayeredMap<string, CachedNode>;
  /** Cluster id → ids of the registered agents that watch it, reporting or not (detection's ODOWN denominator). */
  readonly assignedAgents: LayeredMap<string, ReadonlySet<string>>;
  private agentAssignment: AgentAssignment | undefined;

  constructor(
    readonly clusters: readonly CachedCluster[],
    readonly loadedAt: number,
    readonly agents: readonly CachedAgent[] = [],
    delta?: { previous: TopologySnapshot; ids: ReadonlySet<string>; fresh: readonly CachedCluster[] },
  ) {
    const byId: [string, CachedCluster | undefined][] = [];
    const byName: [string, CachedCluster | undefined][] = [];
    const nodes: [string, CachedNode | undefined][] = [];
    const addresses: [string, CachedNode | undefined][] = [];
    const assigned: [string, ReadonlySet<string> | undefined][] = [];
    const add = (c: CachedCluster) => {
      byId.push([c.id, c]);
      byName.push([c.name, c]);
      for (const n of c.nodes) {
        nodes.push([n.id, n]);
        addresses.push([addressKey(n.host, n.port), n]);
      }
      const watching = new Set<string>();
      for (const a of agents) if (a.watchClusters === null || a.watchClusters.includes(c.name)) watching.add(a.id);
      assigned.push([c.id, watching]);
    };
    if (delta && delta.previous.agents === agents) {
      const p = delta.previous;
      // Removals first, then the fresh clusters: a key both removed and re-added ends up present.
      for (const id of delta.ids) {
        const old = p.clustersById.get(id);
        if (!old) continue;
        byId.push([id, undefined]);
        byName.push([old.name, undefined]);
        for (const n of old.nodes) {
          nodes.push([n.id, undefined]);
          addresses.push([addressKey(n.host, n.port), undefined]);
        }
        assigned.push([id, undefined]);
      }
      for (const c of delta.fresh) add(c);
      this.clustersById = p.clustersById.with(byId);
      this.clustersByName = p.clustersByName.with(byName);
      this.nodesById = p.nodesById.with(nodes);
      this.nodesByAddress = p.nodesByAddress.with(addresses);
      this.assignedAgents = p.assignedAgents.with(assigned);
      return;
    }
    for (const c of clusters) add(c);
    this.clustersById = LayeredMap.from(byId as [string, CachedCluster][]);
    this.clustersByName = LayeredMap.from(byName as [string, CachedCluster][]);
    this.nodesById = LayeredMap.from(nodes as [string, CachedNode][]);
    this.nodesByAddress = LayeredMap.from(addresses as [string, CachedNode][]);
    this.assignedAgents = LayeredMap.from(assigned as [string, ReadonlySet<string>][]);
  }

  /** This snapshot with the clusters in `ids` replaced by `fresh` (one in `ids` but not in `fresh` was deleted), and the agents if given. */
  replacing(ids: ReadonlySet<string>, fresh: readonly CachedCluster[], loadedAt: number, agents: readonly CachedAgent[] = this.agents): TopologySnapshot {
    return new TopologySnapshot(replaceClusters(this.clusters, ids, fresh), loadedAt, agents, { previous: this, ids, fresh });
  }

  /** What every agent is assigned, with a version; derived on first use (not on every change). */
  get assignment(): AgentAssignment {
    if (this.agentAssignment) return this.agentAssignment;
    const body = this.clusters.map((c) => ({
      id: c.id,
      name: c.name,
      downAfterMs: c.downAfterMs,
      redis: c.redis,
      nodes: c.nodes.map((n) => ({ id: n.id, host: n.host, port: n.port })),
    }));
    // The version is a digest of the content, so every controller replica derives the same one. Agents
    // are not part of it: registering one must not make every agent fetch its assignment again.
    const version = createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 22);
    this.agentAssignment = { version, clusters: body };
    return this.agentAssignment;
  }
}

export interface ClusterRow {
  id: string;
  name: string;
  quorum: number;
  down_after_ms: number;
  epoch: string;
  auto_failover: boolean;
  require_master_dead_evidence: boolean;
  maintenance_until: Date | null;
  cooldown_ms: number;
  failover_timeout_ms: number;
  min_replicas_to_write: number;
  min_replicas_max_lag_s: number;
  max_replica_lag_bytes: string;
  redis_username: string | null;
  redis_password_sealed: string | null;
  redis_tls: boolean;
  master_since: Date | null;
  dns_names: string[];
  dns_ttl: number | null;
}

export interface AgentRow {
  id: string;
  name: string;
  zone: string;
  watch_clusters: string[] | null;
}

export interface NodeRow {
  id: string;
  cluster_id: string;
  host: string;
  port: number;
  role: NodeEntity['role'];
  priority: number;
  zone: string | null;
  role_epoch: string;
}

const CLUSTER_COLUMNS = `id, name, quorum, down_after_ms, epoch::text AS epoch, auto_failover, require_master_dead_evidence, maintenance_until, cooldown_ms,
  failover_timeout_ms, min_replicas_to_write, min_replicas_max_lag_s, max_replica_lag_bytes::text AS max_replica_lag_bytes,
  redis_username, redis_password_sealed, redis_tls, master_since, dns_names, dns_ttl`;
const NODE_COLUMNS = 'id, cluster_id, host, port, role, priority, zone, role_epoch::text AS role_epoch';

/** Plain rows, not entities: these run on every topology change. `ids` limits them to some clusters. */
export const TOPOLOGY_SQL = {
  // "C" collation: byte order, as `replaceClusters` sorts, whatever the database's locale (the assignment digest depends on it).
  clusters: (ids?: boolean) => `SELECT ${CLUSTER_COLUMNS} FROM clusters${ids ? ' WHERE id = ANY($1::uuid[])' : ''} ORDER BY name COLLATE "C"`,
  nodes: (ids?: boolean) => `SELECT ${NODE_COLUMNS} FROM nodes${ids ? ' WHERE cluster_id = ANY($1::uuid[])' : ''} ORDER BY host, port`,
  agents: 'SELECT id, name, zone, watch_clusters FROM agents ORDER BY name',
};

/** Nodes grouped by cluster id, in the rows' order. */
export function nodesByCluster(rows: NodeRow[]): Map<string, CachedNode[]> {
  const byCluster = new Map<string, CachedNode[]>();
  for (const n of rows) {
    const list = byCluster.get(n.cluster_id) ?? [];
    list.push({
      id: n.id,
      clusterId: n.cluster_id,
      host: n.host,
      port: n.port,
      role: n.role,
      priority: n.priority,
      zone: n.zone,
      roleEpoch: Number(n.role_epoch),
    });
    byCluster.set(n.cluster_id, list);
  }
  return byCluster;
}

/** One cluster row with its nodes; `password` opens the sealed Redis password (or says what to use instead). */
export function cachedCluster(c: ClusterRow, nodes: CachedNode[], password: (sealed: string) => { password?: string }): CachedCluster {
  return {
    id: c.id,
    name: c.name,
    quorum: c.quorum,
    downAfterMs: c.down_after_ms,
    epoch: Number(c.epoch),
    autoFailover: c.auto_failover,
    requireMasterDeadEvidence: c.require_master_dead_evidence,
    maintenanceUntil: c.maintenance_until,
    cooldownMs: c.cooldown_ms,
    failoverTimeoutMs: c.failover_timeout_ms,
    minReplicasToWrite: c.min_replicas_to_write,
    minReplicasMaxLagS: c.min_replicas_max_lag_s,
    maxReplicaLagBytes: Number(c.max_replica_lag_bytes),
    masterSince: c.master_since,
    dnsNames: c.dns_names,
    dnsTtl: c.dns_ttl,
    redis: {
      ...(c.redis_username ? { username: c.redis_username } : {}),
      ...(c.redis_password_sealed ? password(c.redis_password_sealed) : {}),
      tls: c.redis_tls,
    },
    nodes,
  };
}

export function cachedAgent(a: AgentRow): CachedAgent {
  return { id: a.id, name: a.name, zone: a.zone, watchClusters: a.watch_clusters };
}

/**
 * `previous` with the clusters named in `ids` replaced by `fresh` (a cluster in `ids` but not in `fresh`
 * was deleted), ordered by name as a full load orders them. Linear: a copy, and each fresh cluster put
 * in its place by binary search (a write touches one cluster or a few).
 */
export function replaceClusters(previous: readonly CachedCluster[], ids: ReadonlySet<string>, fresh: readonly CachedCluster[]): CachedCluster[] {
  const out = ids.size > 0 ? previous.filter((c) => !ids.has(c.id)) : previous.slice();
  for (const c of fresh) {
    let lo = 0;
    let hi = out.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (out[mid]!.name < c.name) lo = mid + 1;
      else hi = mid;
    }
    out.splice(lo, 0, c);
  }
  return out;
}
