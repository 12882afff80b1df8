import { describe, expect, it } from 'vitest';
import { pooledSlope, summarize } from '../scripts/soak/analysis.js';
import { parseSoakOptions } from '../scripts/soak/options.js';
import { renderPlot } from '../scripts/soak/plot.js';
import { verdict } from '../scripts/soak/report.js';

describe('soak analysis', () => {
  it('fits one slope within restarts: the drop at a restart is neither growth nor decrease', () => {
    // Two incarnations, each flat at its own level, then each growing 1 per second.
    const flat = [0, 10, 20, 30].map((t) => ({ t, y: 100, segment: 1 })).concat([40, 50, 60].map((t) => ({ t, y: 50, segment: 2 })));
    expect(pooledSlope(flat)).toBe(0);
    const growing = [0, 10, 20].map((t) => ({ t, y: 100 + t, segment: 1 })).concat([30, 40, 50].map((t) => ({ t, y: t, segment: 2 })));
    expect(pooledSlope(growing)).toBeCloseTo(1, 9);
    expect(Number.isNaN(pooledSlope([{ t: 0, y: 1, segment: 0 }]))).toBe(true);
  });

  it('leaves out the warm-up and each restarted incarnation’s first seconds', () => {
    const samples = [0, 10, 20, 30, 40, 50, 60, 70].map((t) => ({
      t,
      values: { 'x.rss_mib': t < 20 ? 500 - t : t < 50 ? 100 : t === 50 ? 999 : 100, 'x.incarnation': t < 50 ? 1 : 2 },
    }));
    const s = summarize(samples, 'x.rss_mib', 20, 15, 'x.incarnation');
    expect(s.perHour).toBe(0);
    expect(s.fitted).toBe(4); // 20, 30, 40 and 70 (50 and 60 are the restart's warm-up)
    expect(s.first).toBe(500);
    expect(s.max).toBe(999);
    expect(verdict(s)).toBe('flat');
    expect(verdict({ ...s, perHour: 50 })).toBe('**grows**');
  });

  it('refuses bad flags with the flag named', () => {
    expect(() => parseSoakOptions(['--minutes', 'x'])).toThrow(/--minutes must be a number/);
    expect(() => parseSoakOptions(['--bogus', '1'])).toThrow(/unknown flag\(s\): --bogus/);
    const o = parseSoakOptions(['--minutes', '5', '--fault-every=60']);
    expect(o).toMatchObject({ minutes: 5, faultEverySeconds: 60, clusters: 1000, writeReport: false });
  });

  it('draws a line per series, broken where a value is missing', () => {
    const svg = renderPlot(
      [0, 10, 20].map((t) => ({ t, values: { a: t === 10 ? NaN : t } })),
      [{ title: 'A & B', series: [{ key: 'a', label: 'a<1>' }] }],
      [{ at: 10, n: 1 }],
      'test',
    );
    expect(svg).toContain('A &amp; B');
    expect(svg).toContain('a&lt;1&gt;');
    expect(svg).toMatch(/<path d="M[\d.]+,[\d.]+M[\d.]+,[\d.]+"/); // t=0, then a new move after the gap at t=10
  });
});
