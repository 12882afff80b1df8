import { describe, expect, it } from 'vitest';
import { ClusterEntity } from './cluster.entity.js';
import { type ClusterNodeRow, clusterViews } from './cluster-read.js';
import { NodeEntity } from './node.entity.js';

const at = new Date('2026-12-01T00:00:00Z');
function row(cluster: string, node: { id: string; port: number } | null): ClusterNodeRow {
  return {
    id: `id-${cluster}`,
    name: cluster,
    quorum: 2,
    down_after_ms: 5000,
    failover_timeout_ms: 60_000,
    cooldown_ms: 300_000,
    auto_failover: true,
    require_master_dead_evidence: true,
    maintenance_until: null,
    min_replicas_to_write: 1,
    min_replicas_max_lag_s: 10,
    max_replica_lag_bytes: '1048576',
    redis_username: null,
    redis_password_sealed: 'sealed',
    redis_tls: false,
    dns_names: [],
    dns_ttl: null,
    epoch: '7',
    master_since: at,
    created_at: at,
    updated_at: at,
    n_id: node?.id ?? null,
    n_host: '10.0.0.1',
    n_port: node?.port ?? 0,
    n_role: 'replica',
    n_priority: 100,
    n_zone: null,
    n_created_at: at,
    n_role_checked_at: null,
    n_role_epoch: '7',
  } as ClusterNodeRow;
}

describe('clusterViews', () => {
  it('groups the join rows into clusters in row order, with numbers for bigint columns and no node for a cluster without any', () => {
    const views = clusterViews([row('a', { id: 'n1', port: 6379 }), row('a', { id: 'n2', port: 6380 }), row('b', null)]);
    expect(views.map((v) => [v.cluster.name, v.nodes.map((n) => n.port)])).toEqual([
      ['a', [6379, 6380]],
      ['b', []],
    ]);
    const [a] = views;
    expect(a!.cluster).toBeInstanceOf(ClusterEntity);
    expect(a!.nodes[0]).toBeInstanceOf(NodeEntity);
    expect([a!.cluster.epoch, a!.cluster.maxReplicaLagBytes, a!.nodes[0]!.roleEpoch]).toEqual([7, 1_048_576, 7]);
    expect(a!.nodes[0]!.clusterId).toBe('id-a');
  });
});
