import { describe, expect, it } from 'vitest';
import type { Vote } from '../detection/detection-engine.js';
import type { NodeView } from '../detection/node-view.js';
import { clusterOverview, type OverviewInput, replicaProblem, unreachableZones } from './cluster-overview.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

const vote = (zone: string, sdown: boolean): Vote => ({
  agent: `probe-${zone}`,
  zone,
  sdown,
  st: sdown ? 'down' : 'ok',
  noReplyMs: sdown ? 5000 : 10,
  lagMs: 0,
});

const view = (over: Partial<NodeView> = {}): NodeView => ({
  state: 'up',
  since: NOW - 60_000,
  assigned: 3,
  voters: 3,
  sdownVotes: 0,
  faultVotes: 0,
  votes: [vote('a', false), vote('b', false), vote('c', false)],
  lastOkAt: NOW,
  repl: null,
  claimedMasterBy: 0,
  ...over,
});

const master = (offset: number): NodeView['repl'] => ({ role: 'master', offset, replicas: 2, ageMs: 0, readAt: NOW - 200 });
const replica = (offset: number, over: Partial<NonNullable<NodeView['repl']>> = {}): NodeView['repl'] => ({
  role: 'replica',
  offset,
  masterHost: '10.0.0.1',
  masterPort: 6379,
  linkUp: true,
  ageMs: 0,
  readAt: NOW - 300,
  ...over,
});

const cluster = {
  name: 'orders',
  epoch: 4,
  autoFailover: true,
  maintenanceUntil: null,
  maxReplicaLagBytes: 0,
  nodes: [
    { id: 'm', host: '10.0.0.1', port: 6379, role: 'master' },
    { id: 'r1', host: '10.0.0.2', port: 6379, role: 'replica' },
    { id: 'r2', host: '10.0.0.3', port: 6379, role: 'replica' },
  ],
};

const input = (views: Record<string, NodeView>, over: Partial<OverviewInput> = {}): OverviewInput => ({
  now: NOW,
  cluster,
  view: (id) => views[id]!,
  cannotDecideReason: null,
  decision: null,
  running: null,
  lastFinished: null,
  maintenanceReason: null,
  ...over,
});

describe('clusterOverview', () => {
  it('sums a healthy cluster up: replicas, byte and second lag, the last failover', () => {
    const item = clusterOverview(
      input(
        { m: view({ repl: master(1000) }), r1: view({ repl: replica(990, { lastIoS: 0 }) }), r2: view({ repl: replica(1010, { lastIoS: 2 }) }) },
        {
          lastFinished: {
            id: 'f1',
            trigger: 'switchover',
            outcome: 'succeeded',
            state: 'done',
            from: '10.0.0.3:6379',
            to: '10.0.0.1:6379',
            startedAt: new Date(NOW - 5000),
            finishedAt: new Date(NOW - 4000),
          },
        },
      ),
    );
    expect(item).toEqual({
      name: 'orders',
      health: 'ok',
      reasons: ['master up, 2 of 2 replicas up'],
      master: '10.0.0.1:6379',
      epoch: 4,
      replicasUp: 2,
      replicasTotal: 2,
      worstLagBytes: 10,
      worstLagS: 2,
      unreachableFromZones: [],
      autoFailover: true,
      maintenanceUntil: null,
      failoverInProgress: null,
      lastFailover: {
        id: 'f1',
        at: new Date(NOW - 4000).toISOString(),
        trigger: 'switchover',
        outcome: 'succeeded',
        from: '10.0.0.3:6379',
        to: '10.0.0.1:6379',
      },
      lastRefusal: null,
    });
  });

  it('is degraded with a replica down, and has no byte lag without a reading of the master', () => {
    const item = clusterOverview(input({ m: view(), r1: view({ repl: replica(5) }), r2: view({ state: 'odown', sdownVotes: 3, repl: replica(5) }) }));
    expect(item).toMatchObject({ health: 'degraded', replicasUp: 1, replicasTotal: 2, worstLagBytes: null, worstLagS: null });
    expect(item.reasons).toEqual(['1 of 2 replicas up', '10.0.0.3:6379: down (odown: 3 of 3 voting agents see it down)']);
  });

  it('names the zones cut from the master and carries the refusal and the running failover', () => {
    const cut = view({ state: 'sdown', sdownVotes: 1, votes: [vote('a', false), vote('b', true), vote('c', false)], repl: master(1) });
    const item = clusterOverview(input({ m: cut, r1: view({ repl: replica(1) }), r2: view({ repl: replica(1) }) }));
    expect(item).toMatchObject({ health: 'master-unreachable', unreachableFromZones: ['b'] });
    const refused = clusterOverview(
      input(
        { m: view({ state: 'odown', sdownVotes: 3, votes: [vote('a', true), vote('b', true), vote('c', true)] }), r1: view(), r2: view() },
        { decision: { at: new Date(NOW).toISOString(), outcome: 'refused', code: 'no-safe-candidate', reason: 'no replica can be promoted safely' } },
      ),
    );
    expect(refused).toMatchObject({
      health: 'master-down',
      unreachableFromZones: [],
      lastRefusal: { at: new Date(NOW).toISOString(), code: 'no-safe-candidate', reason: 'no replica can be promoted safely' },
    });
    const running = clusterOverview(
      input(
        { m: view({ state: 'odown', sdownVotes: 3 }), r1: view(), r2: view() },
        {
          running: {
            id: 'f2',
            trigger: 'auto',
            outcome: 'running',
            state: 'promoting',
            from: '10.0.0.1:6379',
            to: null,
            startedAt: new Date(NOW - 100),
            finishedAt: null,
          },
        },
      ),
    );
    expect(running).toMatchObject({
      health: 'failing-over',
      failoverInProgress: { id: 'f2', state: 'promoting', startedAt: new Date(NOW - 100).toISOString() },
    });
  });

  it('shows maintenance with its end and reason only while it lasts', () => {
    const views = { m: view({ repl: master(1) }), r1: view({ repl: replica(1) }), r2: view({ repl: replica(1) }) };
    const until = new Date(NOW + 60_000);
    const item = clusterOverview(input(views, { cluster: { ...cluster, maintenanceUntil: until }, maintenanceReason: 'resharding' }));
    expect(item).toMatchObject({
      health: 'maintenance',
      maintenanceUntil: until.toISOString(),
      reasons: [`maintenance until ${until.toISOString()}: resharding`],
    });
    expect(clusterOverview(input(views, { cluster: { ...cluster, maintenanceUntil: new Date(NOW - 1) } }))).toMatchObject({
      health: 'ok',
      maintenanceUntil: null,
    });
  });
});

describe('replicaProblem', () => {
  const m = { host: '10.0.0.1', port: 6379 };
  it('needs the replica up, read, a replica, linked and following the recorded master', () => {
    expect(replicaProblem(view({ repl: replica(1) }), m)).toBeNull();
    expect(replicaProblem(view({ state: 'config-fault' }), m)).toBe('refuses our credentials');
    expect(replicaProblem(view({ state: 'unknown' }), m)).toBe('no agent reports on it');
    expect(replicaProblem(view(), m)).toBe('no replication reading from the agents yet');
    expect(replicaProblem(view({ repl: master(1) }), m)).toBe('reports role master');
    expect(replicaProblem(view({ repl: replica(1, { linkUp: false }) }), m)).toBe('master link down');
    expect(replicaProblem(view({ repl: replica(1, { masterPort: 6380 }) }), m)).toBe('follows 10.0.0.1:6380, not the recorded master');
  });
});

describe('unreachableZones', () => {
  it('lists zones whose every voting agent sees the node down, only while another zone reaches it', () => {
    expect(unreachableZones(view({ votes: [vote('a', false), vote('b', true), vote('b', true), vote('c', true)] }))).toEqual(['b', 'c']);
    expect(unreachableZones(view({ votes: [vote('a', false), vote('b', true), { ...vote('b', false), agent: 'probe-b2' }] }))).toEqual([]);
    expect(unreachableZones(view({ votes: [vote('a', true), vote('b', true)] }))).toEqual([]);
  });
});
