import { describe, expect, it } from 'vitest';
import type { NodeObservation } from '../../../../libs/contracts/src/index.js';
import { type DetectionCluster, DetectionEngine, type DetectionTopology, type DetectionTransition } from './detection-engine.js';

const SETTINGS = { staleAfterMs: 3000, voteWindowIntervals: 3, minVoteWindowMs: 1000, startupGraceMs: 3000 };
const M = 'aaaaaaaa-0000-4000-8000-000000000001';
const R = 'aaaaaaaa-0000-4000-8000-000000000002';

/** One cluster, with the registered agents `assigned` (by name) watching it. */
function topology(quorum = 2, downAfterMs = 1000, assigned = ['a', 'b', 'c']) {
  const cluster: DetectionCluster = {
    id: 'c1',
    name: 'orders',
    quorum,
    downAfterMs,
    nodes: [
      { id: M, clusterId: 'c1', host: '10.0.0.1', port: 6379 },
      { id: R, clusterId: 'c1', host: '10.0.0.2', port: 6379 },
    ],
  };
  return {
    clustersById: new Map([[cluster.id, cluster]]),
    nodesById: new Map(cluster.nodes.map((n) => [n.id, n])),
    assignedAgents: new Map([[cluster.id, new Set(assigned.map((name) => `id-${name}`))]]),
  } satisfies DetectionTopology;
}

const agent = (name: string) => ({ id: `id-${name}`, name, zone: `zone-${name}` });
const ok = (id: string): NodeObservation => ({ id, st: 'ok', ago: 10, lat: 0.3 });
const silent = (id: string, ago: number): NodeObservation => ({ id, st: 'down', ago, err: 'connect ECONNREFUSED' });

/** Engine started long ago (past its startup grace, unless `startedAt` says otherwise); agents `assigned` (three unless said) report every 250 ms. */
function engine(quorum = 2, downAfterMs = 1000, assigned?: string[], startedAt = -1_000_000) {
  const e = new DetectionEngine(SETTINGS, startedAt);
  e.setTopology(topology(quorum, downAfterMs, assigned));
  const report = (name: string, nodes: NodeObservation[], now: number, lagMs = 0) => e.ingest(agent(name), { intervalMs: 250, lagMs, nodes }, now);
  return { e, report };
}

const nodeEvents = (ts: DetectionTransition[]) =>
  ts
    .filter((t) => t.kind === 'node')
    .map((t) => (t.kind === 'node' ? `${t.node.port === 6379 && t.node.host === '10.0.0.1' ? 'M' : 'R'}:${t.from}->${t.to}` : ''));

describe('DetectionEngine', () => {
  it('declares ODOWN once quorum agents have had no reply for down-after, not before', () => {
    // (the way through SDOWN alone is in the partition case below)
    const { report } = engine();
    for (const a of ['a', 'b', 'c']) report(a, [ok(M), ok(R)], 0);
    // 900 ms without a reply for two agents: not yet.
    const quiet = [...report('a', [silent(M, 900), ok(R)], 1000), ...report('b', [silent(M, 900), ok(R)], 1000), ...report('c', [ok(M), ok(R)], 1000)];
    expect(nodeEvents(quiet)).toEqual([]);
    // 150 ms later a reports 1050 ms; b's failing view has aged to 1050 ms as well: two votes, ODOWN.
    const a = report('a', [silent(M, 1050), ok(R)], 1150);
    expect(nodeEvents(a)).toEqual(['M:up->odown']);
    const t = a.find((x) => x.kind === 'node');
    if (t?.kind !== 'node') throw new Error('no transition');
    expect(t.sdownVotes).toBe(2);
    expect(t.voters).toBe(3);
    // Both last had a reply at 100, so both crossed down-after at 1100; decided at 1150.
    expect(t.quorumReachedAt).toBe(1100);
    expect(t.faultSince).toBe(100);
  });

  it('ages a failing view between reports, but never a healthy one', () => {
    const { e, report } = engine();
    report('a', [silent(M, 800)], 1000);
    report('b', [silent(M, 800)], 1000);
    report('c', [ok(M)], 1000);
    expect(e.verdict(M, 1000)!.state).toBe('up');
    // 300 ms later, no new report: both failing views are now 1100 ms without a reply.
    expect(e.verdict(M, 1300)!.state).toBe('odown');
    // The healthy view is not guessed down however long the controller waits (within the vote window).
    expect(e.verdict(M, 1300)!.votes.find((v) => v.agent === 'c')).toMatchObject({ sdown: false, noReplyMs: 10 });
  });

  it('also ages a view whose PING has been outstanding past an interval (a hung node), not one within it', () => {
    const { e, report } = engine();
    // Status still "ok" (the PING in flight has not timed out yet), but no reply for 700 ms at 250 ms probing.
    report('a', [{ id: M, st: 'ok', ago: 700 }], 1000);
    report('b', [{ id: M, st: 'ok', ago: 700 }], 1000);
    report('c', [ok(M)], 1000);
    expect(e.verdict(M, 1400)!.state).toBe('odown'); // 1100 ms without a reply for a and b, decided before their next report
    report('a', [{ id: M, st: 'ok', ago: 300 }], 2000); // 300 ms: within 1.2 intervals + 50 ms, a healthy view
    expect(e.verdict(M, 2600)!.votes.find((v) => v.agent === 'a')).toMatchObject({ noReplyMs: 300, sdown: false });
  });

  it('keeps one partitioned agent at SDOWN: a minority never makes ODOWN', () => {
    const { e, report } = engine();
    for (let t = 0; t <= 5000; t += 250) {
      report('a', [silent(M, t), ok(R)], t);
      report('b', [ok(M), ok(R)], t);
      report('c', [ok(M), ok(R)], t);
    }
    expect(e.verdict(M, 5000)).toMatchObject({ state: 'sdown', sdownVotes: 1, voters: 3 });
  });

  it('forgives a pause shorter than down-after', () => {
    const { e, report } = engine();
    const events: string[] = [];
    for (let t = 0; t <= 3000; t += 250) {
      const paused = t >= 1000 && t < 1500;
      const nodes = (ago: number) => [paused ? silent(M, ago) : ok(M)];
      for (const a of ['a', 'b', 'c']) events.push(...nodeEvents(report(a, nodes(t - 1000 + 10), t)));
    }
    expect(events).toEqual([]);
    expect(e.verdict(M, 3000)!.state).toBe('up');
  });

  it('does not count votes from stale agents, nor from agents whose last report is old', () => {
    const { e, report } = engine();
    report('a', [silent(M, 2000)], 0);
    report('b', [silent(M, 2000)], 0);
    report('c', [ok(M)], 0);
    expect(e.verdict(M, 0)!.state).toBe('odown');
    // 1.2 s later only c has reported again: a and b are past their vote window (max(3 × 250, 1000) ms).
    report('c', [ok(M)], 1200);
    expect(e.verdict(M, 1200)).toMatchObject({ state: 'up', voters: 1 });
    // Past the stale threshold, the tick marks them stale and says so.
    const ticked = e.tick(3500);
    expect(ticked.filter((t) => t.kind === 'agent').map((t) => (t.kind === 'agent' ? `${t.agent.name}:${t.stale}` : ''))).toEqual(['a:true', 'b:true']);
  });

  it('leaves out a stalled agent: its late ticks would time live nodes out', () => {
    const { e, report } = engine();
    report('a', [silent(M, 1500)], 0, 600);
    report('b', [silent(M, 1500)], 0, 600);
    report('c', [ok(M)], 0);
    const v = e.verdict(M, 0)!;
    expect(v).toMatchObject({ state: 'up', voters: 1 });
    report('a', [silent(M, 1500)], 100, 100);
    expect(e.verdict(M, 100)).toMatchObject({ voters: 2, sdownVotes: 1, state: 'sdown' });
  });

  it('calls a node refusing our credentials a configuration fault, never down', () => {
    const { e, report } = engine();
    const auth = { id: M, st: 'auth' as const, ago: 60_000, err: 'WRONGPASS invalid username-password pair' };
    const events = [...report('a', [auth], 0), ...report('b', [auth], 0), ...report('c', [auth], 0)];
    expect(nodeEvents(events)).toEqual(['M:unknown->config-fault']);
    expect(e.verdict(M, 0)).toMatchObject({ state: 'config-fault', sdownVotes: 0, faultVotes: 3 });
  });

  it('says "cannot decide" when fewer healthy agents than quorum watch a cluster, after the startup grace', () => {
    const e = new DetectionEngine(SETTINGS, 0);
    e.setTopology(topology(2));
    e.ingest(agent('a'), { intervalMs: 250, nodes: [ok(M), ok(R)] }, 0);
    expect(e.tick(1000).filter((t) => t.kind === 'cluster')).toEqual([]); // within the grace
    const later = e.tick(3000).filter((t) => t.kind === 'cluster');
    expect(later).toHaveLength(1);
    expect(later[0]).toMatchObject({ canDecide: false, healthyAgents: 1 }); // one agent, quorum two
    e.ingest(agent('a'), { intervalMs: 250, nodes: [ok(M), ok(R)] }, 3100);
    e.ingest(agent('b'), { intervalMs: 250, nodes: [ok(M), ok(R)] }, 3100);
    const back = e.tick(3200).filter((t) => t.kind === 'cluster');
    expect(back).toMatchObject([{ canDecide: true, healthyAgents: 2 }]);
  });

  it('measures recovery from the last known state when voters come back', () => {
    const { e, report } = engine();
    for (const a of ['a', 'b', 'c']) report(a, [silent(M, 2000)], 0);
    expect(e.verdict(M, 0)!.state).toBe('odown');
    e.tick(5000); // everyone stale: the node is unknown for now, its last known state stays odown
    expect(e.nodes.get(M)!.state).toBe('odown');
    const back = [...report('a', [ok(M)], 6000), ...report('b', [ok(M)], 6000)];
    expect(nodeEvents(back)).toEqual(['M:odown->up']);
  });

  it('reports unknown node ids so the caller can refuse the report whole', () => {
    const { e } = engine();
    expect(e.unknownNodes([ok(M), ok('bbbbbbbb-0000-4000-8000-000000000009'), ok(R)])).toEqual([1]);
  });

  it('forgets nodes and views that left the topology', () => {
    const { e, report } = engine();
    report('a', [ok(M), ok(R)], 0);
    const t = topology();
    t.nodesById.delete(R);
    e.setTopology(t);
    expect(e.agents.get('id-a')!.views.has(R)).toBe(false);
    expect(e.verdict(R, 0)).toBeUndefined();
  });
});

const FIVE = ['a', 'b', 'c', 'd', 'e'];

/** The ODOWN denominator in the engine: the agents assigned to the cluster, not the agents voting now. */
describe('DetectionEngine denominators', () => {
  it('never declares ODOWN from two of five assigned agents while three are silent (quorum 2)', () => {
    const { e, report } = engine(2, 1000, FIVE);
    const seen: string[] = [];
    // c, d and e never report; a and b lose their route to the master.
    for (let t = 0; t <= 6000; t += 250) {
      for (const a of ['a', 'b']) for (const x of report(a, [silent(M, t + 10), ok(R)], t)) if (x.kind === 'node') seen.push(x.to);
      for (const x of e.tick(t)) if (x.kind === 'node') seen.push(x.to);
    }
    expect(seen).toEqual(['sdown']);
    expect(e.verdict(M, 6000)).toMatchObject({ state: 'sdown', assigned: 5, voters: 2, sdownVotes: 2 });
    expect(e.canDecide('c1', 6000)).toEqual({ canDecide: false, reason: '2 of 5 assigned agents can vote; ODOWN needs 3', assigned: 5, usable: 2 });
  });

  it('counts agents that went silent as "not down": they never shrink the denominator', () => {
    const { e, report } = engine(2, 1000, FIVE);
    for (const a of FIVE) report(a, [ok(M), ok(R)], 0);
    expect(e.canDecide('c1', 0)).toMatchObject({ canDecide: true, assigned: 5, usable: 5 });
    const seen: string[] = [];
    for (let t = 250; t <= 8000; t += 250) {
      for (const a of ['a', 'b']) for (const x of report(a, [silent(M, t), ok(R)], t)) if (x.kind === 'node') seen.push(x.to);
      for (const x of e.tick(t)) if (x.kind === 'node') seen.push(x.to);
    }
    expect(e.agents.get('id-c')!.stale).toBe(true);
    expect(seen).not.toContain('odown');
    expect(e.verdict(M, 8000)).toMatchObject({ state: 'sdown', assigned: 5, sdownVotes: 2 });
  });

  it('declares ODOWN with three of five, and the transition carries the denominator', () => {
    const { report } = engine(2, 1000, FIVE);
    for (const a of FIVE) report(a, [ok(M), ok(R)], 0);
    for (const a of ['a', 'b']) report(a, [silent(M, 1100), ok(R)], 1000);
    const out = report('c', [silent(M, 1100), ok(R)], 1000);
    const t = out.find((x) => x.kind === 'node');
    if (t?.kind !== 'node') throw new Error('no transition');
    expect(t).toMatchObject({ to: 'odown', assigned: 5, voters: 5, sdownVotes: 3 });
    // The third vote decided it: its down-after expired at 900 (no reply since -100).
    expect(t.quorumReachedAt).toBe(900);
  });

  it('says why a cluster cannot decide, after the startup grace, and when it can again', () => {
    const { e, report } = engine(2, 1000, FIVE, 0);
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
    const { e, report } = engine(4, 1000, ['a', 'b', 'c']);
    for (const a of ['a', 'b', 'c']) report(a, [ok(M), ok(R)], 0);
    expect(e.canDecide('c1', 0)).toMatchObject({ canDecide: false, reason: 'quorum 4 exceeds the 3 agents assigned' });
    for (const a of ['a', 'b', 'c']) report(a, [silent(M, 5000)], 100);
    expect(e.verdict(M, 100)!.state).toBe('sdown');
  });

  it('does not count tilted (stalled) agents toward "can decide"', () => {
    const { e, report } = engine(2, 1000, ['a', 'b', 'c']);
    report('a', [ok(M)], 0, 600);
    report('b', [ok(M)], 0, 600);
    report('c', [ok(M)], 0);
    expect(e.healthyAgents('c1')).toBe(3);
    expect(e.canDecide('c1', 0)).toEqual({ canDecide: false, reason: '1 of 3 assigned agents can vote; ODOWN needs 2', assigned: 3, usable: 1 });
    report('a', [ok(M)], 100, 0);
    expect(e.canDecide('c1', 100)).toMatchObject({ canDecide: true, usable: 2 });
  });

  it('counts agents that report but are not registered (yet) in the denominator', () => {
    const { e, report } = engine(2, 1000, ['a', 'b', 'c']);
    for (const a of ['a', 'b', 'c', 'x', 'y']) report(a, [ok(M), ok(R)], 0);
    expect(e.assignedAgents('c1')).toBe(5);
    for (const a of ['a', 'b']) report(a, [silent(M, 2000)], 100);
    expect(e.verdict(M, 100)).toMatchObject({ state: 'sdown', assigned: 5, sdownVotes: 2 });
  });

  it('follows the registry: an agent removed from the topology leaves the denominator', () => {
    const { e, report } = engine(2, 1000, FIVE);
    for (const a of ['a', 'b']) report(a, [silent(M, 2000), ok(R)], 0);
    expect(e.verdict(M, 0)).toMatchObject({ state: 'sdown', assigned: 5 });
    e.setTopology(topology(2, 1000, ['a', 'b', 'c']));
    expect(e.verdict(M, 0)).toMatchObject({ state: 'odown', assigned: 3 });
  });
});
