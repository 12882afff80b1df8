import { describe, expect, it } from 'vitest';
import { type CandidateInput, rankCandidates } from './candidate-ranking.js';

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
        node('n7', {}, { syncInProgress: true, offset: 0 }),
      ],
      POLICY,
    );
    expect(r.candidates.map((c) => c.id)).toEqual(['n6']);
    expect(Object.fromEntries(r.excluded.map((e) => [e.id, e.reason]))).toEqual({
      n1: 'priority 0: never promoted',
      n2: 'unreachable: connect ECONNREFUSED',
      n3: 'detection holds it sdown',
      n4: 'not a replica (role master)',
      n5: 'master link down for 120 s (limit 60 s): data too stale',
      n7: 'full resynchronisation in progress: incomplete data set',
    });
  });

  it('excludes replicas lagging the best by more than maxReplicaLagBytes', () => {
    const r = rankCandidates([node('n1', { priority: 1 }, { offset: 100 }), node('n2', {}, { offset: 5000 })], { ...POLICY, maxReplicaLagBytes: 1000 });
    expect(r.candidates.map((c) => c.id)).toEqual(['n2']);
    expect(r.excluded).toEqual([{ id: 'n1', host: '10.0.0.1', port: 1, reason: '4900 bytes behind the best replica (limit 1000)' }]);
  });

  it('returns no candidate rather than a bad one', () => {
    expect(rankCandidates([node('n1', { priority: 0 })], POLICY).candidates).toEqual([]);
  });
});
