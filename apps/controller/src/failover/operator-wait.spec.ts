import { describe, expect, it } from 'vitest';
import type { CachedCluster } from '../topology/topology-cache.service.js';
import type { ClusterObserver } from './cluster-observer.js';
import { FailoverRuns } from './failover-runs.js';
import { FailoverService } from './failover.service.js';

// The slot rule alone: the sweep holds a cluster's slot while it decides (also when it ends in a refusal),
// and an operator's forced failover that arrives meanwhile waits for that decision instead of being refused.
// Everything but FailoverRuns' slot and FailoverService's rule is a stand-in.

const cluster: CachedCluster = {
  id: 'c1',
  name: 'orders',
  quorum: 2,
  downAfterMs: 1000,
  epoch: 0,
  autoFailover: true,
  requireMasterDeadEvidence: false,
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
  nodes: [],
};

function setUp() {
  const c = { ...cluster };
  const topology = { snapshot: { clustersByName: new Map([[c.name, c]]) } };
  const started: string[] = [];
  const runs = new FailoverRuns(
    { history: async () => ({ running: null }), fencedStep: async () => undefined } as never,
    null as never,
    topology as never,
    { isLeader: () => true } as never,
    null as never,
    { controllerName: 'test' } as never,
  );
  Object.assign(runs, {
    begin: async () => ({ id: `f${started.push('begun')}`, fence: {}, startedAt: new Date(), epoch: c.epoch + 1 }),
    runner: () => ({ run: async () => undefined }),
  });
  const observer = { observe: async () => ({ ranking: { candidates: [{ host: '10.0.0.2', port: 6379 }], excluded: [] }, inputs: [], evidence: null }) };
  const service = new FailoverService(topology as never, observer as unknown as ClusterObserver, runs);
  return { c, runs, service, started };
}

/** A decision the sweep is making: holds the slot until `end` is called. */
function sweepDeciding(runs: FailoverRuns, clusterId: string) {
  let end!: () => void;
  runs.track(clusterId, () => new Promise<void>((resolve) => (end = resolve)));
  return () => end();
}

describe("an operator's failover that meets the sweep deciding on the same cluster", () => {
  it('waits for the decision (a refusal) to end and then runs', async () => {
    const { c, runs, service, started } = setUp();
    const end = sweepDeciding(runs, c.id);
    const asked = service.manual(c.name, 'operator', {});
    setTimeout(end, 200);
    await expect(asked).resolves.toBe('f1');
    expect(started).toEqual(['begun']);
  });

  it('is refused when the decision started a failover that raised the epoch meanwhile', async () => {
    const { c, runs, service, started } = setUp();
    const end = sweepDeciding(runs, c.id);
    const asked = service.manual(c.name, 'operator', {});
    setTimeout(() => {
      c.epoch = 1;
      end();
    }, 200);
    await expect(asked).rejects.toThrow(/ran while this request waited \(epoch 0 -> 1\)/);
    expect(started).toEqual([]);
  });

  it('is refused as running when the slot stays taken past the wait', async () => {
    const { c, runs, service } = setUp();
    sweepDeciding(runs, c.id);
    await expect(service.manual(c.name, 'operator', {})).rejects.toThrow(/already running/);
  }, 10_000);
});
