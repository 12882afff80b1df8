import { createHash } from 'node:crypto';
import type { AgentAssignment } from '../../../../libs/contracts/src/index.js';
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

/** One consistent picture of all clusters, nodes and registered agents; each reload makes a new one (never changed in place). */
export class TopologySnapshot {
  readonly clustersById = new Map<string, CachedCluster>();
  readonly clustersByName = new Map<string, CachedCluster>();
  readonly nodesById = new Map<string, CachedNode>();
  /** Cluster id → ids of the registered agents that watch it, reporting or not (detection's ODOWN denominator). */
  readonly assignedAgents = new Map<string, ReadonlySet<string>>();
  private agentAssignment: AgentAssignment | undefined;

  constructor(
    readonly clusters: CachedCluster[],
    readonly loadedAt: number,
    readonly agents: readonly CachedAgent[] = [],
  ) {
    for (const c of clusters) {
      this.clustersById.set(c.id, c);
      this.clustersByName.set(c.name, c);
      for (const n of c.nodes) this.nodesById.set(n.id, n);
      this.assignedAgents.set(c.id, new Set(agents.filter((a) => a.watchClusters === null || a.watchClusters.includes(c.name)).map((a) => a.id)));
    }
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
 * was deleted), ordered by name as a full load orders them.
 */
export function replaceClusters(previous: readonly CachedCluster[], ids: ReadonlySet<string>, fresh: readonly CachedCluster[]): CachedCluster[] {
  const kept = previous.filter((c) => !ids.has(c.id));
  if (fresh.length === 0) return kept;
  return kept.concat(fresh).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
