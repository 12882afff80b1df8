import { describe, expect, it } from 'vitest';
import type { NodeObservation } from '../../../../libs/contracts/src/index.js';
import { type DetectionCluster, DetectionEngine, type DetectionTopology } from './detection-engine.js';
import { decide, decisionCapacity, odownNeeds } from './quorum.js';

/** The ODOWN denominator is the agents assigned to the cluster, not the agents voting now (PRODUCT.md §3). */
describe('the quorum rule', () => {
  // [assigned, voters, sdownVotes, quorum, expected]
  const cases: [string, number, number, number, number, string][] = [
    ['5 assigned, quorum 2, 2 of 5 see it down', 5, 5, 2, 2, 'sdown'],
    ['5 assigned, quorum 2, 3 of 5 see it down', 5, 5, 3, 2, 'odown'],
    ['3 assigned, quorum 2, 2 see it down', 3, 3, 2, 2, 'odown'],
    ['5 assigned, 3 silent, the 2 voting see it down', 5, 2, 2, 2, 'sdown'],
    ['5 assigned, 2 silent, the 3 voting see it down', 5, 3, 3, 2, 'odown'],
    ['4 assigned, quorum 2, 2 down: half is not a majority', 4, 4, 2, 2, 'sdown'],
    ['5 assigned, quorum 4, 3 down: majority but not quorum', 5, 5, 3, 4, 'sdown'],
    ['1 assigned, quorum 1, 1 down', 1, 1, 1, 1, 'odown'],
    ['3 assigned, nobody voting', 3, 0, 0, 2, 'unknown'],
    ['3 assigned, all voting, none down', 3, 3, 0, 2, 'up'],
    ['fewer assigned than voters is never a smaller denominator', 1, 3, 1, 1, 'sdown'],
  ];
  it.each(cases)('%s', (_name, assigned, voters, sdownVotes, quorum, expected) => {
    expect(decide(assigned, voters, sdownVotes, 0, quorum)).toBe(expected);
  });

  it('needs max(quorum, a strict majority of the assigned) votes', () => {
    expect(odownNeeds(2, 5)).toBe(3);
    expect(odownNeeds(2, 3)).toBe(2);
    expect(odownNeeds(2, 4)).toBe(3);
    expect(odownNeeds(4, 5)).toBe(4);
    expect(odownNeeds(1, 1)).toBe(1);
  });

  it('cannot decide when quorum exceeds the assigned agents, or the usable ones cannot form quorum and majority', () => {
    expect(decisionCapacity(4, 3, 3)).toEqual({ canDecide: false, reason: 'quorum 4 exceeds the 3 agents assigned', assigned: 3, usable: 3 });
    expect(decisionCapacity(1, 0, 0)).toMatchObject({ canDecide: false, reason: 'quorum 1 exceeds the 0 agents assigned' });
    expect(decisionCapacity(2, 5, 2)).toEqual({ canDecide: false, reason: '2 of 5 assigned agents can vote; ODOWN needs 3', assigned: 5, usable: 2 });
    expect(decisionCapacity(5, 5, 4)).toMatchObject({ canDecide: false, reason: '4 of 5 assigned agents can vote; ODOWN needs 5' });
    expect(decisionCapacity(2, 5, 3)).toEqual({ canDecide: true, assigned: 5, usable: 3 });
    expect(decisionCapacity(2, 3, 2)).toEqual({ canDecide: true, assigned: 3, usable: 2 });
  });
});

const SETTINGS = { staleAfterMs: 3000, voteWindowIntervals: 3, minVoteWindowMs: 1000, startupGraceMs: 3000 };
const M = 'aaaaaaaa-0000-4000-8000-000000000001';
const R = 'aaaaaaaa-0000-4000-8000-000000000002';
const FIVE = ['a', 'b', 'c', 'd', 'e'];

function topology(assigned: string[], quorum = 2): DetectionTopology {
  const cluster: DetectionCluster = {
    id: 'c1',
    name: 'orders',
    quorum,
    downAfterMs: 1000,
    nodes: [
      { id: M, clusterId: 'c1', host: '10.0.0.1', port: 6379 },
      { id: R, clusterId: 'c1', host: '10.0.0.2', port: 6379 },
    ],
  };
  return {
    clustersById: new Map([[cluster.id, cluster]]),
    nodesById: new Map(cluster.nodes.map((n) => [n.id, n])),
    assignedAgents: new Map([[cluster.id, new Set(assigned.map((name) => `id-${name}`))]]),
  };
}

const ok = (id: string): NodeObservation => ({ id, st: 'ok', ago: 10 });
const down = (id: string, ago: number): NodeObservation => ({ id, st: 'down', ago, err: 'connect ETIMEDOUT' });

function engine(assigned: string[], quorum = 2, startedAt = -1_000_000) {
  const e = new DetectionEngine(SETTINGS, startedAt);
  e.setTopology(topology(assigned, quorum));
  const report = (name: string, nodes: NodeObservation[], now: number, lagMs = 0) =>
    e.ingest({ id: `id-${name}`, name, zone: `zone-${name}` }, { intervalMs: 250, lagMs, nodes }, now);
  return { e, report };
}

describe('DetectionEngine denominators', () => {
  it('never declares ODOWN from two of five assigned agents while three are silent (quorum 2)', () => {
    const { e, report } = engine(FIVE);
    const seen: string[] = [];
    // c, d and e never report; a and b lose their route to the master.
    for (let t = 0; t <= 6000; t += 250) {
      for (const a of ['a', 'b']) for (const x of report(a, [down(M, t + 10), ok(R)], t)) if (x.kind === 'node') seen.push(x.to);
      for (const x of e.tick(t)) if (x.kind === 'node') seen.push(x.to);
    }
    expect(seen).toEqual(['sdown']);
    expect(e.verdict(M, 6000)).toMatchObject({ state: 'sdown', assigned: 5, voters: 2, sdownVotes: 2 });
    expect(e.canDecide('c1', 6000)).toEqual({ canDecide: false, reason: '2 of 5 assigned agents can vote; ODOWN needs 3', assigned: 5, usable: 2 });
  });

  it('counts agents that went silent as "not down": they never shrink the denominator', () => {
    const { e, report } = engine(FIVE);
    for (const a of FIVE) report(a, [ok(M), ok(R)], 0);
    expect(e.canDecide('c1', 0)).toMatchObject({ canDecide: true, assigned: 5, usable: 5 });
    const seen: string[] = [];
    for (let t = 250; t <= 8000; t += 250) {
      for (const a of ['a', 'b']) for (const x of report(a, [down(M, t), ok(R)], t)) if (x.kind === 'node') seen.push(x.to);
      for (const x of e.tick(t)) if (x.kind === 'node') seen.push(x.to);
    }
    expect(e.agents.get('id-c')!.stale).toBe(true);
    expect(seen).not.toContain('odown');
    expect(e.verdict(M, 8000)).toMatchObject({ state: 'sdown', assigned: 5, sdownVotes: 2 });
  });

  it('declares ODOWN with three of five, and the transition carries the denominator', () => {
    const { report } = engine(FIVE);
    for (const a of FIVE) report(a, [ok(M), ok(R)], 0);
    for (const a of ['a', 'b']) report(a, [down(M, 1100), ok(R)], 1000);
    const out = report('c', [down(M, 1100), ok(R)], 1000);
    const t = out.find((x) => x.kind === 'node');
    if (t?.kind !== 'node') throw new Error('no transition');
    expect(t).toMatchObject({ to: 'odown', assigned: 5, voters: 5, sdownVotes: 3 });
    // The third vote decided it: its down-after expired at 900 (no reply since -100).
    expect(t.quorumReachedAt).toBe(900);
  });

  it('says why a cluster cannot decide, after the startup grace, and when it can again', () => {
    const { e, report } = engine(FIVE, 2, 0);
    for (const a of ['a', 'b']) report(a, [ok(M), ok(R)], 0);
    expect(e.tick(1000).filter((t) => t.kind === 'cluster')).toEqual([]); // within the grace
    for (const a of ['a', 'b']) report(a, [ok(M), ok(R)], 3000);
    expect(e.tick(3000).filter((t) => t.kind === 'cluster')).toMatchObject([
      { canDecide: false, assigned: 5, usable: 2, healthyAgents: 2, reason: '2 of 5 assigned agents can vote; ODOWN needs 3' },
    ]);
    report('c', [ok(M), ok(R)], 3100);
    const back = e.tick(3100).filter((t) => t.kind === 'cluster');
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ canDecide: true, assigned: 5, usable: 3 });
    expect(back[0]).not.toHaveProperty('reason');
  });

  it('cannot decide when quorum exceeds the assigned agents, however many report', () => {
    const { e, report } = engine(['a', 'b', 'c'], 4);
    for (const a of ['a', 'b', 'c']) report(a, [ok(M), ok(R)], 0);
    expect(e.canDecide('c1', 0)).toMatchObject({ canDecide: false, reason: 'quorum 4 exceeds the 3 agents assigned' });
    for (const a of ['a', 'b', 'c']) report(a, [down(M, 5000)], 100);
    expect(e.verdict(M, 100)!.state).toBe('sdown');
  });

  it('does not count tilted (stalled) agents toward "can decide"', () => {
    const { e, report } = engine(['a', 'b', 'c']);
    report('a', [ok(M)], 0, 600);
    report('b', [ok(M)], 0, 600);
    report('c', [ok(M)], 0);
    expect(e.healthyAgents('c1')).toBe(3);
    expect(e.canDecide('c1', 0)).toEqual({ canDecide: false, reason: '1 of 3 assigned agents can vote; ODOWN needs 2', assigned: 3, usable: 1 });
    report('a', [ok(M)], 100, 0);
    expect(e.canDecide('c1', 100)).toMatchObject({ canDecide: true, usable: 2 });
  });

  it('counts agents that report but are not registered (yet) in the denominator', () => {
    const { e, report } = engine(['a', 'b', 'c']);
    for (const a of ['a', 'b', 'c', 'x', 'y']) report(a, [ok(M), ok(R)], 0);
    expect(e.assignedAgents('c1')).toBe(5);
    for (const a of ['a', 'b']) report(a, [down(M, 2000)], 100);
    expect(e.verdict(M, 100)).toMatchObject({ state: 'sdown', assigned: 5, sdownVotes: 2 });
  });

  it('follows the registry: an agent removed from the topology leaves the denominator', () => {
    const { e, report } = engine(FIVE);
    for (const a of ['a', 'b']) report(a, [down(M, 2000), ok(R)], 0);
    expect(e.verdict(M, 0)).toMatchObject({ state: 'sdown', assigned: 5 });
    e.setTopology(topology(['a', 'b', 'c']));
    expect(e.verdict(M, 0)).toMatchObject({ state: 'odown', assigned: 3 });
  });
});
