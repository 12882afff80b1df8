import { describe, expect, it } from 'vitest';
import { deposedAcks, judge, longestGap, lostWindowMs, promotions, type RoleSample, splitBrainMs, type WriteRecord } from './checker.js';

const A = '10.0.0.1:7000';
const B = '10.0.0.2:7000';
const C = '10.0.0.3:7000';
const sample = (at: number, a?: 'master' | 'slave', b?: 'master' | 'slave', c?: 'master' | 'slave'): RoleSample => ({ at, roles: { [A]: a, [B]: b, [C]: c } });

describe('checker', () => {
  it('counts a promotion only when a replica turns master, not a master seen again after silence', () => {
    const samples = [
      sample(0, 'master', 'slave', 'slave'),
      sample(50, undefined, 'slave', 'slave'),
      sample(100, undefined, 'master', 'slave'),
      sample(150, 'master', 'master', 'slave'),
      sample(200, 'slave', 'master', 'slave'),
    ];
    expect(promotions(samples)).toEqual([{ node: B, at: 100 }]);
  });

  it('adds up the time two nodes answered master', () => {
    const samples = [
      sample(0, 'master', 'slave'),
      sample(50, 'master', 'master'),
      sample(100, 'master', 'master'),
      sample(160, 'slave', 'master'),
      sample(210, 'slave', 'master'),
    ];
    expect(splitBrainMs(samples)).toBe(110);
  });

  it('counts acknowledgements by a deposed master, not by a replica about to be seen promoted', () => {
    const w = (node: string, end: number, outcome: WriteRecord['outcome'] = 'ok'): WriteRecord => ({ key: `k${end}`, start: end - 1, end, outcome, node });
    const writes = [w(A, 10), w(A, 120), w(B, 130), w(A, 140, 'unknown'), { key: 'x', start: 0, end: 150, outcome: 'ok' as const }];
    expect(deposedAcks(writes, [{ node: B, at: 100 }], A)).toBe(1); // A at 120, after B's promotion
    expect(deposedAcks(writes, [], A)).toBe(0); // B never reigned: its acknowledgement is not a deposed master's
    expect(
      deposedAcks(
        [w(B, 90), w(A, 95), w(B, 210), w(C, 220)],
        [
          { node: B, at: 100 },
          { node: C, at: 200 },
        ],
        A,
      ),
    ).toBe(1); // B at 210
  });

  it('measures the longest time without an acknowledged write, to the end of the window', () => {
    const writes: WriteRecord[] = [100, 150, 900, 1000].map((end) => ({ key: `k${end}`, start: end, end, outcome: 'ok' }));
    writes.push({ key: 'f', start: 200, end: 800, outcome: 'failed' });
    expect(longestGap(writes, 120, 1000)).toBe(750);
    expect(longestGap(writes, 0, 2000)).toBe(1000);
  });

  it('judges false and missed failovers', () => {
    expect(judge('no-failover', 1)).toEqual({ falseFailover: true, missedFailover: false });
    expect(judge('failover', 0)).toEqual({ falseFailover: false, missedFailover: true });
    expect(judge('either', 0)).toEqual({ falseFailover: false, missedFailover: false });
  });

  it('measures lost writes as time, whatever the write rate', () => {
    const at = (end: number, key = `k${end}`): WriteRecord => ({ key, start: end, end, outcome: 'ok' });
    const fast = Array.from({ length: 100 }, (_, i) => at(1000 + i)); // 100 writes in 100 ms
    const slow = [at(1000, 's1'), at(1050, 's2')];
    expect(lostWindowMs(fast, new Set(fast.map((w) => w.key)))).toBe(100);
    expect(lostWindowMs(slow, new Set(['s1', 's2']))).toBe(20);
    expect(lostWindowMs(fast, new Set())).toBe(0);
  });
});
