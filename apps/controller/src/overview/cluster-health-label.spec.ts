import { describe, expect, it } from 'vitest';
import { type ClusterHealthFacts, clusterHealthLabel } from './cluster-health-label.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

const healthy = (): ClusterHealthFacts => ({
  now: NOW,
  failoverInProgress: null,
  master: { address: '10.0.0.1:6379', state: 'up', assigned: 3, voters: 3, sdownVotes: 0 },
  unreachableFromZones: [],
  lastRefusal: null,
  cannotDecideReason: null,
  maintenance: null,
  replicas: [
    { address: '10.0.0.2:6379', up: true, why: null, lagBytes: 0 },
    { address: '10.0.0.3:6379', up: true, why: null, lagBytes: 10 },
  ],
  maxReplicaLagBytes: 0,
});

const label = (f: Partial<ClusterHealthFacts>) => clusterHealthLabel({ ...healthy(), ...f });

describe('clusterHealthLabel', () => {
  it('says ok with the replicas up', () => {
    expect(clusterHealthLabel(healthy())).toEqual({ health: 'ok', reasons: ['master up, 2 of 2 replicas up'] });
    expect(label({ replicas: [] })).toEqual({ health: 'ok', reasons: ['master up, no replicas'] });
  });

  it('is degraded by a replica down or unlinked, a lagging replica, or no master', () => {
    expect(label({ replicas: [healthy().replicas[0]!, { address: '10.0.0.3:6379', up: false, why: 'master link down', lagBytes: null }] })).toEqual({
      health: 'degraded',
      reasons: ['1 of 2 replicas up', '10.0.0.3:6379: master link down'],
    });
    expect(label({ maxReplicaLagBytes: 5 })).toEqual({ health: 'degraded', reasons: ['10.0.0.3:6379 lags 10 bytes behind the master (limit 5)'] });
    expect(label({ maxReplicaLagBytes: 10 }).health).toBe('ok');
    expect(label({ master: null }).reasons).toEqual(['no master recorded']);
    // A master the agents cannot read is not vouched for.
    const faulty = label({ master: { address: '10.0.0.1:6379', state: 'config-fault', assigned: 3, voters: 3, sdownVotes: 0 } });
    expect(faulty.health).toBe('degraded');
    expect(faulty.reasons[0]).toMatch(/configuration fault/);
    expect(label({ master: { address: '10.0.0.1:6379', state: 'unknown', assigned: 3, voters: 0, sdownVotes: 0 } }).health).toBe('degraded');
  });

  it('shows maintenance (with its reason) over degraded, and only while it lasts', () => {
    const until = NOW + 60_000;
    const replicas = [{ address: '10.0.0.2:6379', up: false, why: 'down', lagBytes: null }];
    expect(label({ maintenance: { until, reason: 'kernel upgrade' }, replicas })).toEqual({
      health: 'maintenance',
      reasons: ['maintenance until 2025-06-01T12:01:00.000Z: kernel upgrade', '0 of 1 replica up', '10.0.0.2:6379: down'],
    });
    expect(label({ maintenance: { until, reason: null } }).reasons).toEqual(['maintenance until 2025-06-01T12:01:00.000Z']);
    expect(label({ maintenance: { until: NOW - 1, reason: 'over' } }).health).toBe('ok');
  });

  it('says master-unreachable when some voting agents lose the master, naming their zones', () => {
    const f = label({
      master: { address: '10.0.0.1:6379', state: 'sdown', assigned: 3, voters: 3, sdownVotes: 1 },
      unreachableFromZones: ['b'],
      maintenance: { until: NOW + 1000, reason: null },
    });
    expect(f.health).toBe('master-unreachable');
    expect(f.reasons[0]).toBe('master 10.0.0.1:6379 unreachable from zone b (1 of 3 voting agents)');
  });

  it('says cannot-decide over master-unreachable', () => {
    const f = label({
      master: { address: '10.0.0.1:6379', state: 'sdown', assigned: 3, voters: 1, sdownVotes: 1 },
      cannotDecideReason: '1 of 3 assigned agents can vote; ODOWN needs 2',
    });
    expect(f).toEqual({
      health: 'cannot-decide',
      reasons: ['cannot decide: 1 of 3 assigned agents can vote; ODOWN needs 2', 'master 10.0.0.1:6379 unreachable (1 of 1 voting agent)'],
    });
  });

  it('says master-down when the master is ODOWN or down for a majority, with the refusal', () => {
    const odown = label({
      master: { address: '10.0.0.1:6379', state: 'odown', assigned: 3, voters: 3, sdownVotes: 3 },
      lastRefusal: { code: 'master-alive', reason: "the master answers the leader's probe (role master)" },
      cannotDecideReason: 'whatever',
    });
    expect(odown.health).toBe('master-down');
    expect(odown.reasons.slice(0, 2)).toEqual([
      'master 10.0.0.1:6379 is objectively down (3 of 3 assigned agents see it down)',
      "automatic failover refused (master-alive): the master answers the leader's probe (role master)",
    ]);
    // Two of three assigned see it down, below a quorum of 3: still the master is down for a majority.
    const majority = label({ master: { address: '10.0.0.1:6379', state: 'sdown', assigned: 3, voters: 3, sdownVotes: 2 } });
    expect(majority).toEqual({
      health: 'master-down',
      reasons: ['master 10.0.0.1:6379 is down for a majority of its agents (2 of 3 assigned agents see it down)'],
    });
  });

  it('says failing-over above everything while a failover or switchover is unfinished', () => {
    const f = label({
      failoverInProgress: { id: 'f-1', trigger: 'auto', state: 'promoting', startedAt: NOW - 1000 },
      master: { address: '10.0.0.1:6379', state: 'odown', assigned: 3, voters: 3, sdownVotes: 3 },
    });
    expect(f).toEqual({ health: 'failing-over', reasons: ['auto failover f-1 running since 2025-06-01T11:59:59.000Z: phase promoting'] });
    expect(label({ failoverInProgress: { id: 's-1', trigger: 'switchover', state: 'fencing', startedAt: NOW } }).reasons[0]).toMatch(/^switchover s-1 running/);
  });
});
