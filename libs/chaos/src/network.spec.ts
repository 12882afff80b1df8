import { describe, expect, it } from 'vitest';
import { mixSeed, mulberry32 } from './random.js';
import { cut, cutOneWay, HEALED, merge, rulesFor } from './network.js';

const ips = { r1: '10.77.0.11', a1: '10.77.0.14', a2: '10.77.0.15' };

describe('network faults', () => {
  it('cuts both directions, once per pair', () => {
    expect(cut(['r1'], ['a1', 'r1'])).toEqual([
      { from: 'r1', to: 'a1' },
      { from: 'a1', to: 'r1' },
    ]);
    expect(cutOneWay(['r1'], ['a1'])).toEqual([{ from: 'r1', to: 'a1' }]);
    expect(merge({ drops: cut(['r1'], ['a1']) }, { drops: cutOneWay(['r1'], ['a1']) }).drops).toHaveLength(2);
  });

  it('enforces a drop at both ends and only there', () => {
    const state = { drops: cutOneWay(['r1'], ['a1']), losses: [] };
    expect(rulesFor('r1', state, ips)).toContain('add rule inet chaos output ip daddr 10.77.0.14 drop');
    expect(rulesFor('a1', state, ips)).toContain('add rule inet chaos input ip saddr 10.77.0.11 drop');
    expect(rulesFor('a2', state, ips)).not.toContain('add rule');
  });

  it('heals by flushing every rule', () => {
    const script = rulesFor('r1', HEALED, ips);
    expect(script).toContain('flush table inet chaos');
    expect(script).not.toContain('add rule');
  });

  it('applies a loss once, at its first host, in both directions', () => {
    const state = { drops: [], losses: [{ a: 'r1', b: 'a1', percent: 30 }] };
    expect(rulesFor('r1', state, ips).match(/numgen random mod 100 < 30 drop/g)).toHaveLength(2);
    expect(rulesFor('a1', state, ips)).not.toContain('numgen');
    expect(() => rulesFor('r1', { drops: [], losses: [{ a: 'r1', b: 'a1', percent: 100 }] }, ips)).toThrow(/loss percent/);
  });

  it('refuses an unknown host', () => {
    expect(() => rulesFor('r1', { drops: cut(['r1'], ['zz']), losses: [] }, ips)).toThrow(/unknown host zz/);
  });

  it('derives the same trial seeds and draws from the same run seed', () => {
    expect(mixSeed(42, 'crash-master', 0, 'vigil')).toBe(mixSeed(42, 'crash-master', 0, 'vigil'));
    expect(mixSeed(42, 'crash-master', 0, 'vigil')).not.toBe(mixSeed(42, 'crash-master', 1, 'vigil'));
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 5 }, () => a());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
