import { ClusterEntity } from './cluster.entity.js';
import { NodeEntity } from './node.entity.js';
import type { ClusterRow } from './topology-snapshot.js';

/** What `GET /clusters/{name}` and the list read: entities as TypeORM would give them, from one statement. */
export interface ClusterView {
  cluster: ClusterEntity;
  nodes: NodeEntity[];
}

/** One row of `CLUSTER_READ_SQL`: the cluster's columns, and one node's (null for a cluster without nodes). */
export interface ClusterNodeRow extends ClusterRow {
  created_at: Date;
  updated_at: Date;
  n_id: string | null;
  n_host: string;
  n_port: number;
  n_role: NodeEntity['role'];
  n_priority: number;
  n_zone: string | null;
  n_created_at: Date;
  n_role_checked_at: Date | null;
  n_role_epoch: string;
}

const SELECT = `SELECT c.id, c.name, c.quorum, c.down_after_ms, c.failover_timeout_ms, c.cooldown_ms, c.auto_failover, c.require_master_dead_evidence,
  c.maintenance_until, c.min_replicas_to_write, c.min_replicas_max_lag_s, c.max_replica_lag_bytes::text AS max_replica_lag_bytes, c.redis_username,
  c.redis_password_sealed, c.redis_tls, c.dns_names, c.dns_ttl, c.epoch::text AS epoch, c.master_since, c.created_at, c.updated_at,
  n.id AS n_id, n.host AS n_host, n.port AS n_port, n.role AS n_role, n.priority AS n_priority, n.zone AS n_zone, n.created_at AS n_created_at,
  n.role_checked_at AS n_role_checked_at, n.role_epoch::text AS n_role_epoch`;

/**
 * Reads of clusters with their nodes as one statement each (a join, a row per node), instead of a
 * cluster query and a node query through TypeORM: a cluster read is one round trip. Orders as before:
 * clusters by name, nodes by host then port.
 */
export const CLUSTER_READ_SQL = {
  /** $1: the name. */
  one: `${SELECT} FROM clusters c LEFT JOIN nodes n ON n.cluster_id = c.id WHERE c.name = $1 ORDER BY n.host, n.port`,
  /** As `one`, locking the cluster's row for the transaction (a write's read). */
  oneForUpdate: `${SELECT} FROM clusters c LEFT JOIN nodes n ON n.cluster_id = c.id WHERE c.name = $1 ORDER BY n.host, n.port FOR UPDATE OF c`,
  /** $1: the name to start after (null: from the first), $2: how many clusters. */
  page: `${SELECT} FROM (SELECT * FROM clusters WHERE $1::text IS NULL OR name > $1 ORDER BY name LIMIT $2) c
  LEFT JOIN nodes n ON n.cluster_id = c.id ORDER BY c.name, n.host, n.port`,
};

/** The rows of one of `CLUSTER_READ_SQL`'s statements as views, in the rows' order. */
export function clusterViews(rows: readonly ClusterNodeRow[]): ClusterView[] {
  const views: ClusterView[] = [];
  let current: ClusterView | undefined;
  for (const r of rows) {
    if (current?.cluster.id !== r.id) {
      current = { cluster: clusterOf(r), nodes: [] };
      views.push(current);
    }
    if (r.n_id !== null) current.nodes.push(nodeOf(r));
  }
  return views;
}

function clusterOf(r: ClusterNodeRow): ClusterEntity {
  return Object.assign(new ClusterEntity(), {
    id: r.id,
    name: r.name,
    quorum: r.quorum,
    downAfterMs: r.down_after_ms,
    failoverTimeoutMs: r.failover_timeout_ms,
    cooldownMs: r.cooldown_ms,
    autoFailover: r.auto_failover,
    requireMasterDeadEvidence: r.require_master_dead_evidence,
    maintenanceUntil: r.maintenance_until,
    minReplicasToWrite: r.min_replicas_to_write,
    minReplicasMaxLagS: r.min_replicas_max_lag_s,
    maxReplicaLagBytes: Number(r.max_replica_lag_bytes),
    redisUsername: r.redis_username,
    redisPasswordSealed: r.redis_password_sealed,
    redisTls: r.redis_tls,
    dnsNames: r.dns_names,
    dnsTtl: r.dns_ttl,
    epoch: Number(r.epoch),
    masterSince: r.master_since,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

function nodeOf(r: ClusterNodeRow): NodeEntity {
  return Object.assign(new NodeEntity(), {
    id: r.n_id!,
    clusterId: r.id,
    host: r.n_host,
    port: r.n_port,
    role: r.n_role,
    priority: r.n_priority,
    zone: r.n_zone,
    createdAt: r.n_created_at,
    roleCheckedAt: r.n_role_checked_at,
    roleEpoch: Number(r.n_role_epoch),
  });
}
