import { describe, expect, it } from 'vitest';
import type { Ranking } from './candidate-ranking.js';
import { nextPhase, type PlanState, plan } from './failover-planner.js';

const NOW = 1_000_000;
const T = { id: 'r1', host: '10.0.0.2', port: 6379, runId: 'run-a', offset: 500 };
const state = (over: Partial<PlanState> = {}): PlanState => ({
  phase: 'decided',
  trigger: 'auto',
  target: null,
  failed: [],
  oldMasterFenced: false,
  deadline: NOW + 60_000,
  ...over,
});
const ranking = (ids: string[], excluded: Ranking['excluded'] = []): Ranking => ({
  candidates: ids.map((id) => ({ id, host: '10.0.0.2', port: 6379, priority: 100, offset: 500, runId: 'run-a' })),
  excluded,
});

describe('failover planner', () => {
  it('decided: chooses the best candidate not yet tried', () => {
    expect(plan(state(), { now: NOW, ranking: ranking(['r1', 'r2']) })).toMatchObject({ kind: 'choose', target: { id: 'r1' } });
    expect(plan(state({ failed: ['r1'] }), { now: NOW, ranking: ranking(['r1', 'r2']) })).toMatchObject({ kind: 'choose', target: { id: 'r2' } });
  });

  it('decided: gives up when no candidate is left, saying why, and un-fences an old master it fenced', () => {
    const none = plan(state(), {
      now: NOW,
      ranking: ranking([], [{ id: 'r1', host: '10.0.0.2', port: 6379, code: 'no-data', reason: 'never completed a sync' }]),
    });
    expect(none).toEqual({ kind: 'give-up', reason: 'no replica can be promoted: 10.0.0.2:6379 never completed a sync', unfence: false });
    expect(plan(state({ failed: ['r1'], oldMasterFenced: true }), { now: NOW, ranking: ranking(['r1']) })).toEqual({
      kind: 'give-up',
      reason: 'every candidate failed to promote (1 tried)',
      unfence: true,
    });
  });

  it('decided: gives up after the failover timeout', () => {
    expect(plan(state({ deadline: NOW - 1 }), { now: NOW, ranking: ranking(['r1']) })).toMatchObject({ kind: 'give-up', reason: 'failover timeout reached' });
  });

  it('fencing: fences an old master that answers, skips one that does not', () => {
    expect(plan(state({ phase: 'fencing', target: T }), { now: NOW, oldMaster: { answers: true, role: 'master' } })).toEqual({
      kind: 'fence-old-master',
      target: T,
    });
    expect(plan(state({ phase: 'fencing', target: T }), { now: NOW, oldMaster: { answers: false } })).toMatchObject({ kind: 'skip-fence' });
  });

  it('fencing: a switchover hands over through the old master, and aborts when it does not answer', () => {
    expect(plan(state({ phase: 'fencing', trigger: 'switchover', target: T }), { now: NOW, oldMaster: { answers: true } })).toEqual({
      kind: 'hand-over',
      target: T,
    });
    expect(plan(state({ phase: 'fencing', trigger: 'switchover', target: T }), { now: NOW, oldMaster: { answers: false } })).toMatchObject({ kind: 'abort' });
  });

  it('promoting: promotes the chosen node', () => {
    expect(plan(state({ phase: 'promoting', target: T }), { now: NOW })).toEqual({ kind: 'promote', target: T });
  });

  it('promoting, resumed: adopts the chosen node only when it is master and the same process with its data', () => {
    const s = state({ phase: 'promoting', target: T });
    expect(plan(s, { now: NOW, target: { answers: true, role: 'master', runId: 'run-a', offset: 700 } })).toEqual({ kind: 'adopt', target: T });
    expect(plan(s, { now: NOW, target: { answers: true, role: 'replica', runId: 'run-a', offset: 600 } })).toEqual({ kind: 'promote', target: T });
    expect(plan(s, { now: NOW, target: { answers: true, role: 'master', runId: 'run-b', offset: 700 } })).toMatchObject({
      kind: 'next-candidate',
      reason: expect.stringContaining('restarted'),
    });
    expect(plan(s, { now: NOW, target: { answers: true, role: 'master', runId: 'run-a', offset: 0 } })).toMatchObject({
      kind: 'next-candidate',
      reason: expect.stringContaining('offset went back'),
    });
    expect(plan(s, { now: NOW, target: { answers: false, error: 'refused' } })).toMatchObject({ kind: 'next-candidate' });
  });

  it('recorded → repoint → finish; terminal phases do nothing', () => {
    expect(plan(state({ phase: 'recorded', target: T }), { now: NOW })).toEqual({ kind: 'repoint', master: T });
    expect(plan(state({ phase: 'repointing', target: T }), { now: NOW })).toEqual({ kind: 'finish', master: T });
    for (const phase of ['done', 'failed', 'aborted'] as const) expect(plan(state({ phase, target: T }), { now: NOW })).toEqual({ kind: 'none' });
  });

  it('each action leads to one phase', () => {
    expect(nextPhase({ kind: 'choose', target: ranking(['r1']).candidates[0]! })).toBe('fencing');
    expect(nextPhase({ kind: 'skip-fence', reason: '' })).toBe('promoting');
    expect(nextPhase({ kind: 'promote', target: T })).toBe('recorded');
    expect(nextPhase({ kind: 'adopt', target: T })).toBe('recorded');
    expect(nextPhase({ kind: 'hand-over', target: T })).toBe('recorded');
    expect(nextPhase({ kind: 'next-candidate', target: T, reason: '' })).toBe('decided');
    expect(nextPhase({ kind: 'repoint', master: T })).toBe('repointing');
    expect(nextPhase({ kind: 'finish', master: T })).toBe('done');
    expect(nextPhase({ kind: 'give-up', reason: '', unfence: false })).toBe('failed');
    expect(nextPhase({ kind: 'abort', reason: '' })).toBe('aborted');
    expect(nextPhase({ kind: 'none' })).toBeUndefined();
  });
});
