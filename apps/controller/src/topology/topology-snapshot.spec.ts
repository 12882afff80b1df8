import { describe, expect, it } from 'vitest';
import { type CachedCluster, TopologySnapshot } from './topology-cache.service.js';
import { changedByName } from './topology-snapshot.js';

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

describe('TopologySnapshot.replacing', () => {
  const agents = [
    { id: 'a', name: 'probe-a', zone: 'z1', watchClusters: null },
    { id: 'b', name: 'probe-b', zone: 'z2', watchClusters: ['m'] },
  ];
  /** Everything a snapshot indexes, in comparable form. */
  const shape = (s: TopologySnapshot) => ({
    order: s.clusters.map((c) => c.name),
    byId: [...s.clustersById.keys()].sort(),
    byName: [...s.clustersByName.keys()].sort(),
    nodes: [...s.nodesById.keys()].sort(),
    addresses: [...s.nodesByAddress.entries()].map(([k, n]) => `${k}=${n.id}`).sort(),
    assigned: [...s.assignedAgents.entries()].map(([k, v]) => `${k}:${[...v].sort().join(',')}`).sort(),
    version: s.assignment.version,
  });
  const withNode = (id: string, name: string, port: number) => {
    const c = cluster(id, name);
    c.nodes = [{ ...c.nodes[0]!, id: `${id}-n1`, port }];
    return c;
  };
  const base = ['k', 'c', 'x', 'm'].map((name, i) => withNode(`id-${name}`, name, 7000 + i));

  it('indexes exactly what a full load of the same clusters indexes (add, change, delete; agents kept or replaced)', () => {
    const before = new TopologySnapshot(
      [...base].sort((a, b) => (a.name < b.name ? -1 : 1)),
      0,
      agents,
    );
    const added = withNode('id-a', 'a', 7100);
    const changed = withNode('id-m', 'm', 7200); // same cluster, its node moved to another port
    const ids = new Set(['id-a', 'id-m', 'id-x']); // x is deleted
    const fresh = [changed, added];
    const expected = [added, ...base.filter((c) => c.name !== 'x' && c.name !== 'm'), changed].sort((a, b) => (a.name < b.name ? -1 : 1));
    expect(shape(before.replacing(ids, fresh, 1))).toEqual(shape(new TopologySnapshot(expected, 1, agents)));
    const fewerAgents = [agents[1]!];
    expect(shape(before.replacing(ids, fresh, 1, fewerAgents))).toEqual(shape(new TopologySnapshot(expected, 1, fewerAgents)));
    // The snapshot it came from is unchanged.
    expect(shape(before)).toEqual(
      shape(
        new TopologySnapshot(
          [...base].sort((a, b) => (a.name < b.name ? -1 : 1)),
          0,
          agents,
        ),
      ),
    );
  });
});

describe('changedByName', () => {
  it('names the clusters a change left as they are now, and the names it freed (not one a new cluster took)', () => {
    const before = new TopologySnapshot([cluster('c1', 'a'), cluster('c2', 'b'), cluster('c3', 'c')], 0);
    // c1 is deleted; c2 is deleted and a new c4 takes its name; c3 changes.
    const after = before.replacing(new Set(['c1', 'c2', 'c3', 'c4']), [cluster('c4', 'b'), cluster('c3', 'c')], 1);
    const { current, removed } = changedByName(after, { ids: new Set(['c1', 'c2', 'c3', 'c4']), previous: before });
    expect(removed).toEqual(['a']);
    expect(current.map((c) => c.id).sort()).toEqual(['c3', 'c4']);
  });
});
