import type { EventInput } from '../audit/audit.service.js';
import type { ClusterEntity } from './cluster.entity.js';
import type { NodeEntity } from './node.entity.js';

/** A new cluster's row as `clusterInsert` writes it: every column but the timestamps, its id made by the caller. */
export type NewCluster = Omit<ClusterEntity, 'createdAt' | 'updatedAt' | 'nodes'>;
/** A new node's row: every column but `created_at`, its id made by the caller. */
export type NewNode = Omit<NodeEntity, 'createdAt' | 'cluster'>;

const CLUSTER_COLUMNS: [column: string, value: (c: NewCluster) => unknown][] = [
  ['id', (c) => c.id],
  ['name', (c) => c.name],
  ['quorum', (c) => c.quorum],
  ['down_after_ms', (c) => c.downAfterMs],
  ['failover_timeout_ms', (c) => c.failoverTimeoutMs],
  ['cooldown_ms', (c) => c.cooldownMs],
  ['auto_failover', (c) => c.autoFailover],
  ['require_master_dead_evidence', (c) => c.requireMasterDeadEvidence],
  ['maintenance_until', (c) => c.maintenanceUntil],
  ['min_replicas_to_write', (c) => c.minReplicasToWrite],
  ['min_replicas_max_lag_s', (c) => c.minReplicasMaxLagS],
  ['max_replica_lag_bytes', (c) => c.maxReplicaLagBytes],
  ['redis_username', (c) => c.redisUsername],
  ['redis_password_sealed', (c) => c.redisPasswordSealed],
  ['redis_tls', (c) => c.redisTls],
  ['dns_names', (c) => c.dnsNames],
  ['dns_ttl', (c) => c.dnsTtl],
  ['epoch', (c) => c.epoch],
  ['master_since', (c) => c.masterSince],
];

/**
 * A cluster, its nodes and its events written by one statement (data-modifying CTEs): atomic without a
 * transaction around it, one round trip instead of five. The ids are made by the caller, so the events
 * can name the cluster before it exists; the answer is the row's `created_at` and `updated_at`. The events
 * are inserted in the given order (their ids follow it), as `AuditService.recordMany` does.
 */
export function clusterInsert(cluster: NewCluster, nodes: readonly NewNode[], events: readonly EventInput[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (value: unknown, cast = '') => {
    params.push(value);
    return `$${params.length}${cast}`;
  };
  const clusterValues = CLUSTER_COLUMNS.map(([column, value]) => p(value(cluster), column === 'dns_names' ? '::text[]' : ''));
  const parts = [
    `c AS (INSERT INTO clusters (${CLUSTER_COLUMNS.map(([c]) => c).join(', ')}) VALUES (${clusterValues.join(', ')}) RETURNING created_at, updated_at)`,
  ];
  if (nodes.length > 0) {
    // In address order: two creates that share addresses then meet them in the same order, so the later one
    // waits for the first and gets the unique violation (409), never a deadlock with each holding one.
    const rows = [...nodes]
      .sort(byAddress)
      .map(
        (n) =>
          `(${p(n.id)}::uuid, ${p(n.clusterId)}::uuid, ${p(n.host)}, ${p(n.port)}::integer, ${p(n.role)}, ${p(n.priority)}::integer, ${p(n.zone)}, ${p(n.roleCheckedAt)}::timestamptz, ${p(n.roleEpoch)}::bigint)`,
      );
    parts.push(`n AS (INSERT INTO nodes (id, cluster_id, host, port, role, priority, zone, role_checked_at, role_epoch) VALUES ${rows.join(', ')})`);
  }
  if (events.length > 0) {
    const rows = events.map(
      (e) => `(${p(e.type)}, ${p(e.cluster?.id ?? null)}::uuid, ${p(e.cluster?.name ?? null)}, ${p(e.actor)}, ${p(JSON.stringify(e.data ?? {}))}::jsonb)`,
    );
    parts.push(`e AS (INSERT INTO events (type, cluster_id, cluster_name, actor, data) VALUES ${rows.join(', ')})`);
  }
  return { sql: `WITH ${parts.join(', ')} SELECT created_at, updated_at FROM c`, params };
}

/** Nodes as reads order them: by host, then port. */
export function byAddress(a: { host: string; port: number }, b: { host: string; port: number }): number {
  return a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port;
}
