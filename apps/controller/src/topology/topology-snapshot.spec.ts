import { describe, expect, it } from 'vitest';
import { type CachedCluster, TopologySnapshot } from './topology-cache.service.js';

const cluster = (id: string, name: string): CachedCluster => ({
  id,
  name,
  quorum: 2,
  downAfterMs: 1000,
  epoch: 0,
  autoFailover: true,
  requireMasterDeadEvidence: true,
  maintenanceUntil: null,
  cooldownMs: 0,
  failoverTimeoutMs: 10_000,
  minReplicasToWrite: 0,
  minReplicasMaxLagS: 10,
  maxReplicaLagBytes: 0,
  masterSince: null,
  dnsNames: [],
  dnsTtl: null,
  redis: { tls: false },
  nodes: [{ id: `${id}-n1`, clusterId: id, host: '10.0.0.1', port: 6379, role: 'master', priority: 100, zone: null, roleEpoch: 0 }],
});

describe('TopologySnapshot agents', () => {
  const clusters = [cluster('c1', 'orders'), cluster('c2', 'carts')];
  const agents = [
    { id: 'a', name: 'probe-a', zone: 'z1', watchClusters: null },
    { id: 'b', name: 'probe-b', zone: 'z2', watchClusters: ['orders'] },
    { id: 'c', name: 'probe-c', zone: 'z3', watchClusters: [] },
  ];

  it('assigns every cluster to agents watching all, and named clusters to the others', () => {
    const s = new TopologySnapshot(clusters, 0, agents);
    expect([...s.assignedAgents.get('c1')!].sort()).toEqual(['a', 'b']);
    expect([...s.assignedAgents.get('c2')!]).toEqual(['a']);
  });

  it('keeps the agents out of the assignment version (registering one makes no agent refetch)', () => {
    expect(new TopologySnapshot(clusters, 0, agents).assignment.version).toBe(new TopologySnapshot(clusters, 0, []).assignment.version);
  });
});
