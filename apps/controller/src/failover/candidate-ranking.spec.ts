import { describe, expect, it } from 'vitest';
import { type CandidateInput, maxLinkDownMs, rankCandidates, restrictTo } from './candidate-ranking.js';

const node = (id: string, over: Partial<CandidateInput> = {}, probe: Partial<Extract<CandidateInput['probe'], { ok: true }>> = {}): CandidateInput => ({
  id,
  host: '10.0.0.1',
  port: Number(id.replace(/\D/g, '')) || 6379,
  priority: 100,
  detection: 'up',
  probe: { ok: true, role: 'replica', offset: 1000, linkUp: true, ...probe },
  ...over,
});
const POLICY = { maxLinkDownMs: 60_000, maxReplicaLagBytes: 0 };

describe('rankCandidates', () => {
  it('prefers the lowest priority number, then the highest offset, then the node id', () => {
    const r = rankCandidates(
      [
        node('n3', { priority: 50 }, { offset: 10 }),
        node('n2', {}, { offset: 2000 }),
        node('n1', {}, { offset: 2000 }),
        node('n4', { priority: 50 }, { offset: 900 }),
      ],
      POLICY,
    );
    expect(r.candidates.map((c) => c.id)).toEqual(['n4', 'n3', 'n1', 'n2']);
    expect(r.excluded).toEqual([]);
  });

  it('excludes priority 0, unreachable, detected down, not replicas, and replicas whose link has been down too long', () => {
    const r = rankCandidates(
      [
        node('n1', { priority: 0 }),
        node('n2', { probe: { ok: false, error: 'connect ECONNREFUSED' } }),
        node('n3', { detection: 'sdown' }),
        node('n4', {}, { role: 'master' }),
        node('n5', {}, { linkUp: false, linkDownSinceS: 120 }),
        node('n6', {}, { linkUp: false, linkDownSinceS: 5 }),
      ],
      POLICY,
    );
    expect(r.candidates.map((c) => c.id)).toEqual(['n6']);
    expect(Object.fromEntries(r.excluded.map((e) => [e.id, e.code]))).toEqual({
      n1: 'priority-0',
      n2: 'unreachable',
      n3: 'down',
      n4: 'not-replica',
      n5: 'stale',
    });
    expect(r.excluded.find((e) => e.id === 'n5')!.reason).toBe('master link down for 120 s (limit 60 s): data too stale');
  });

  it('never promotes a replica holding no data of the failed master: first sync running, loading, or never synced', () => {
    const r = rankCandidates(
      [
        node('n1', {}, { syncInProgress: true, linkUp: false, linkDownSinceS: -1, offset: 1 }),
        node('n2', {}, { loading: true }),
        node('n3', {}, { linkUp: false, linkDownSinceS: -1, offset: 1 }),
        node('n4', {}, { linkUp: false, linkDownSinceS: 2, offset: 0 }),
      ],
      POLICY,
    );
    // n4 synced with a master that never took a write (offset 0), then lost it: it holds all there was.
    expect(r.candidates.map((c) => c.id)).toEqual(['n4']);
    expect(Object.fromEntries(r.excluded.map((e) => [e.id, e.code]))).toEqual({ n1: 'syncing', n2: 'syncing', n3: 'no-data' });
  });

  it('measures staleness from the SDOWN time, so a long wait (maintenance, cooldown) never disqualifies every replica', () => {
    const sdownSince = 1_000_000;
    const now = sdownSince + 600_000; // ten minutes in maintenance
    const limit = maxLinkDownMs(now, sdownSince, 1000);
    expect(limit).toBe(610_000);
    // The link went down with the master, ten minutes ago: still a candidate.
    expect(rankCandidates([node('n1', {}, { linkUp: false, linkDownSinceS: 600 })], { maxLinkDownMs: limit, maxReplicaLagBytes: 0 }).candidates).toHaveLength(
      1,
    );
    // Its link was down 15 s before the master failed: too stale.
    expect(rankCandidates([node('n1', {}, { linkUp: false, linkDownSinceS: 615 })], { maxLinkDownMs: limit, maxReplicaLagBytes: 0 }).candidates).toHaveLength(
      0,
    );
  });

  it('excludes replicas lagging the best by more than maxReplicaLagBytes', () => {
    const r = rankCandidates([node('n1', { priority: 1 }, { offset: 100 }), node('n2', {}, { offset: 5000 })], { ...POLICY, maxReplicaLagBytes: 1000 });
    expect(r.candidates.map((c) => c.id)).toEqual(['n2']);
    expect(r.excluded).toEqual([{ id: 'n1', host: '10.0.0.1', port: 1, code: 'lagging', reason: '4900 bytes behind the best replica (limit 1000)' }]);
  });

  it('returns no candidate rather than a bad one', () => {
    expect(rankCandidates([node('n1', { priority: 0 })], POLICY).candidates).toEqual([]);
  });
});

describe('restrictTo', () => {
  const nodes = [node('n1', {}, { syncInProgress: true }), node('n2'), node('n3', { probe: { ok: false, error: 'timeout' } })];
  const ranking = rankCandidates(nodes, POLICY);

  it('keeps only the named target and says why the others are left out', () => {
    const r = restrictTo(ranking, nodes, '10.0.0.1:2');
    expect(r.candidates.map((c) => c.id)).toEqual(['n2']);
    expect(r.excluded.map((e) => e.code).sort()).toEqual(['syncing', 'unreachable']);
  });

  it('promotes a target excluded for its data only when the operator accepts the loss', () => {
    expect(restrictTo(ranking, nodes, '10.0.0.1:1').candidates).toEqual([]);
    const forced = restrictTo(ranking, nodes, '10.0.0.1:1', true);
    expect(forced.candidates).toMatchObject([{ id: 'n1', dataLossAccepted: 'syncing' }]);
    expect(forced.excluded.map((e) => e.id).sort()).toEqual(['n2', 'n3']);
  });

  it('never forces an unreachable target', () => {
    expect(restrictTo(ranking, nodes, '10.0.0.1:3', true).candidates).toEqual([]);
  });
});
