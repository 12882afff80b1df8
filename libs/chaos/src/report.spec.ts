import { describe, expect, it } from 'vitest';
import { lostByPath, renderOutageSvg, renderPathTable, renderTable, summarize } from './report.js';
import { clopperPearsonUpper } from './stats.js';
import type { ScenarioSummary, TrialResult } from './types.js';

function trial(fields: Partial<TrialResult> & Pick<TrialResult, 'scenario' | 'system' | 'trial'>): TrialResult {
  return {
    seed: 1,
    expect: 'failover',
    failovers: 1,
    falseFailover: false,
    missedFailover: false,
    acked: 1000,
    lost: 0,
    indeterminate: 0,
    deposedAcks: 0,
    splitBrainMs: 0,
    outageMs: {},
    ...fields,
  };
}

const RESULTS: TrialResult[] = [
  trial({
    scenario: 'crash',
    system: 'sentinel',
    trial: 0,
    acked: 1500,
    lost: 2,
    indeterminate: 3,
    deposedAcks: 1,
    splitBrainMs: 250,
    outageMs: { ioredis: 5000, dns: 6000 },
  }),
  trial({ scenario: 'crash', system: 'vigil', trial: 0, acked: 2000, outageMs: { ioredis: 1000, dns: 1200 } }),
  trial({ scenario: 'pause', system: 'vigil', trial: 0, expect: 'no-failover', failovers: 0, outageMs: { dns: 100 } }),
  trial({ scenario: 'crash', system: 'vigil', trial: 1, acked: 2500, outageMs: { ioredis: 900, dns: 1100 } }),
  trial({ scenario: 'crash', system: 'sentinel', trial: 1, failovers: 2, falseFailover: true, acked: 1500, lost: 1, outageMs: { ioredis: 4000, dns: 4500 } }),
  // A failed trial counts everywhere but in the outage percentiles.
  trial({ scenario: 'crash', system: 'vigil', trial: 2, failovers: 0, missedFailover: true, acked: 10, error: 'no convergence', outageMs: { dns: 99_999 } }),
  trial({ scenario: 'pause', system: 'vigil', trial: 1, expect: 'no-failover', falseFailover: true, outageMs: { dns: 300 } }),
];

function summary(fields: Partial<ScenarioSummary> & Pick<ScenarioSummary, 'scenario' | 'system'>): ScenarioSummary {
  return {
    runs: 10,
    errors: 0,
    failovers: 10,
    falseFailovers: 0,
    missedFailovers: 0,
    acked: 3000,
    lost: 0,
    lostRateUpper95: clopperPearsonUpper(0, 3000),
    indeterminate: 0,
    deposedAcks: 0,
    splitBrainMs: 0,
    outageP50Ms: 1000,
    outageP99Ms: 2000,
    ...fields,
  };
}

describe('summarize', () => {
  it('sums, counts and takes percentiles per scenario and system, in first-seen scenario order, vigil first', () => {
    expect(summarize(RESULTS)).toEqual([
      {
        scenario: 'crash',
        system: 'vigil',
        runs: 3,
        errors: 1,
        failovers: 2,
        falseFailovers: 0,
        missedFailovers: 1,
        acked: 4510,
        lost: 0,
        lostRateUpper95: clopperPearsonUpper(0, 4510),
        indeterminate: 0,
        deposedAcks: 0,
        splitBrainMs: 0,
        outageP50Ms: 1000, // of 900, 1000, 1100, 1200: the failed trial's 99,999 is left out
        outageP99Ms: 1200,
      },
      {
        scenario: 'crash',
        system: 'sentinel',
        runs: 2,
        errors: 0,
        failovers: 3,
        falseFailovers: 1,
        missedFailovers: 0,
        acked: 3000,
        lost: 3,
        lostRateUpper95: clopperPearsonUpper(3, 3000),
        indeterminate: 3,
        deposedAcks: 1,
        splitBrainMs: 250,
        outageP50Ms: 4500,
        outageP99Ms: 6000,
      },
      {
        scenario: 'pause',
        system: 'vigil',
        runs: 2,
        errors: 0,
        failovers: 1,
        falseFailovers: 1,
        missedFailovers: 0,
        acked: 2000,
        lost: 0,
        lostRateUpper95: clopperPearsonUpper(0, 2000),
        indeterminate: 0,
        deposedAcks: 0,
        splitBrainMs: 0,
        outageP50Ms: 100,
        outageP99Ms: 300,
      },
    ]);
    expect(summarize(RESULTS)[0]!.lostRateUpper95).toBeCloseTo(6.6402e-4, 7);
  });

  it('gives NaN outages when every trial failed, a bound of 1 without acknowledged writes, and nothing for no results', () => {
    const [s] = summarize([trial({ scenario: 'x', system: 'sentinel', trial: 0, acked: 0, error: 'setup failed', outageMs: { dns: 5 } })]);
    expect(s!.outageP50Ms).toBeNaN();
    expect(s!.outageP99Ms).toBeNaN();
    expect(s!.lostRateUpper95).toBe(1);
    expect(s!.errors).toBe(1);
    expect(summarize([])).toEqual([]);
  });
});

describe('renderTable', () => {
  const cells = (line: string) => line.slice(2, -2).split(' | ');

  it('has a header, an alignment line and one row per summary with the expected cells', () => {
    const lines = renderTable(summarize(RESULTS)).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe(
      '| scenario | system | runs | failovers | false failovers | missed | acked writes | lost acked (95 % upper bound of the rate) | indeterminate | deposed-master acks | split-brain ms | outage p50 / p99 (ms) |',
    );
    expect(cells(lines[1]!)).toEqual(['---', '---', ...Array<string>(10).fill('---:')]);
    expect(cells(lines[2]!)).toEqual(['crash', 'vigil', '3 (1 failed)', '2', '0', '1', '4,510', '0 (≤ 0.067 %)', '0', '0', '0', '1,000 / 1,200']);
    expect(cells(lines[3]!)).toEqual(['crash', 'sentinel', '2', '3', '1', '0', '3,000', '3 (≤ 0.26 %)', '3', '1', '250', '4,500 / 6,000']);
    expect(cells(lines[4]!)).toEqual(['pause', 'vigil', '2', '1', '1', '0', '2,000', '0 (≤ 0.15 %)', '0', '0', '0', '100 / 300']);
  });

  it('rounds the bound up, separates thousands, escapes pipes and shows — for missing outages', () => {
    const table = renderTable([
      summary({ scenario: 'a|b', system: 'vigil' }),
      summary({
        scenario: 'big',
        system: 'sentinel',
        runs: 1200,
        errors: 1001,
        acked: 1_234_567,
        lost: 12,
        lostRateUpper95: clopperPearsonUpper(12, 1_234_567),
      }),
      summary({ scenario: 'none', system: 'vigil', acked: 0, lostRateUpper95: 1, splitBrainMs: 12_345.6, outageP50Ms: NaN, outageP99Ms: NaN }),
    ]);
    const rows = table.trimEnd().split('\n').slice(2);
    expect(rows[0]).toContain('| a\\|b | vigil | 10 |');
    expect(rows[0]).toContain('| 0 (≤ 0.10 %) |'); // 1 − 0.05^(1/3000) = 0.0998 %
    expect(rows[1]).toContain('| 1,200 (1,001 failed) |');
    expect(rows[1]).toContain('| 1,234,567 | 12 (≤ 0.0016 %) |'); // 0.001575 %
    expect(rows[2]).toContain('| 0 (≤ 100 %) |');
    expect(rows[2]).toContain('| 12,346 | — / — |');
  });
});

describe('renderOutageSvg', () => {
  const NAME = 'partition <a&b> "q"';
  const SUMMARIES = [
    summary({ scenario: NAME, system: 'vigil', outageP50Ms: 1000, outageP99Ms: 1500 }),
    summary({ scenario: NAME, system: 'sentinel', outageP50Ms: 5000, outageP99Ms: 8000 }),
    summary({ scenario: 'vigil only', system: 'vigil', outageP50Ms: 2500, outageP99Ms: 2600 }),
    summary({ scenario: 'all failed', system: 'vigil', outageP50Ms: NaN, outageP99Ms: NaN }),
    summary({ scenario: 'all failed', system: 'sentinel', outageP50Ms: 700, outageP99Ms: 900 }),
  ];
  const bars = (svg: string) =>
    [...svg.matchAll(/<rect class="bar" data-scenario="([^"]*)" data-system="(\w+)"[^>]*? width="([\d.]+)"/g)].map(([, scenario, system, width]) => ({
      scenario,
      system,
      width: Number(width),
    }));

  it('is a self-contained SVG whose tags balance', () => {
    const svg = renderOutageSvg(SUMMARIES, 'Outage <by> scenario');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('font-family="sans-serif"');
    expect(svg).not.toMatch(/<script|@import|href=|<image|<foreignObject/i);
    expect(svg).toContain('Outage &lt;by&gt; scenario');
    const open: string[] = [];
    for (const [, close, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/g)) {
      if (close) expect(open.pop()).toBe(name);
      else if (!selfClosing) open.push(name!);
    }
    expect(open).toEqual([]);
    // A white background and text of at least 4.5:1 contrast on it.
    expect(svg).toMatch(/<rect width="900" height="\d+" fill="#ffffff"\/>/);
    const luminance = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const textColours = [...svg.matchAll(/<(?:svg|text)\b[^>]*? fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]!);
    expect(textColours.length).toBeGreaterThan(1);
    for (const colour of textColours) expect(1.05 / (luminance(colour) + 0.05)).toBeGreaterThanOrEqual(4.5);
  });

  it('escapes scenario names and names both systems in a legend', () => {
    const svg = renderOutageSvg(SUMMARIES, 'x');
    expect(svg).toContain('partition &lt;a&amp;b&gt; &quot;q&quot;');
    expect(svg).not.toContain('<a&b>');
    expect(svg).toMatch(/>vigil</);
    expect(svg).toMatch(/>sentinel \(Redis Sentinel\)</);
    expect(svg).toContain('<pattern id="chaos-hatch"');
  });

  it('draws one bar per measured (scenario, system), solid or hatched, its width proportional to the p50', () => {
    const svg = renderOutageSvg(SUMMARIES, 'x');
    const drawn = bars(svg);
    expect(drawn.map((b) => `${b.scenario}/${b.system}`)).toEqual([
      'partition &lt;a&amp;b&gt; &quot;q&quot;/vigil',
      'partition &lt;a&amp;b&gt; &quot;q&quot;/sentinel',
      'vigil only/vigil',
      'all failed/sentinel',
    ]);
    const [vigil, sentinel, only, failed] = drawn.map((b) => b.width);
    expect(sentinel! / vigil!).toBeCloseTo(5, 2);
    expect(only! / vigil!).toBeCloseTo(2.5, 2);
    expect(failed! / vigil!).toBeCloseTo(0.7, 2);
    expect(svg).toMatch(/<rect class="bar"[^>]*data-system="sentinel"[^>]*fill="url\(#chaos-hatch\)"/);
    expect(svg).toMatch(/<rect class="bar"[^>]*data-system="vigil"[^>]*fill="#[0-9a-f]{6}"/);
    // Values at the bar ends, in seconds.
    expect(svg).toContain('>1.00 s · p99 1.50 s<');
    expect(svg).toContain('>5.00 s · p99 8.00 s<');
  });

  it('writes n/a for a NaN outage and "not run" for a missing system, and copes with nothing to draw', () => {
    const svg = renderOutageSvg(SUMMARIES, 'x');
    expect(svg).toContain('>n/a<');
    expect(svg).toContain('>not run<');
    expect(svg).not.toContain('NaN');
    const empty = renderOutageSvg([summary({ scenario: 'z', system: 'vigil', outageP50Ms: NaN, outageP99Ms: NaN })], 'x');
    expect(bars(empty)).toEqual([]);
    expect(empty).not.toContain('NaN');
    expect(renderOutageSvg([], 'x')).toContain('no results');
  });

  it('grows in height with the number of scenarios', () => {
    const height = (svg: string) => Number(/^<svg[^>]* height="(\d+)"/.exec(svg)![1]);
    expect(height(renderOutageSvg(SUMMARIES, 'x'))).toBeGreaterThan(height(renderOutageSvg(SUMMARIES.slice(0, 2), 'x')));
  });
});

describe('lost writes by client path', () => {
  const trial = (system: 'vigil' | 'sentinel', byPath: TrialResult['byPath']): TrialResult => ({
    scenario: 'isolate-master-zone',
    system,
    trial: 0,
    seed: 1,
    expect: 'failover',
    failovers: 1,
    falseFailover: false,
    missedFailover: false,
    acked: 0,
    lost: 0,
    indeterminate: 0,
    deposedAcks: 0,
    splitBrainMs: 0,
    outageMs: {},
    byPath,
  });

  it('sums acknowledged, lost and the time lost per path over trials, and renders them per trial', () => {
    const rows = lostByPath([
      trial('vigil', { 'sentinel-ioredis': { acked: 100, lost: 10, lostMs: 2000 }, dns: { acked: 50, lost: 5, lostMs: 3000 } }),
      trial('vigil', { 'sentinel-ioredis': { acked: 100, lost: 30, lostMs: 3000 } }),
      trial('sentinel', { 'sentinel-ioredis': { acked: 300, lost: 0 } }),
    ]);
    expect(rows).toEqual([
      { scenario: 'isolate-master-zone', system: 'vigil', path: 'sentinel-ioredis', trials: 2, acked: 200, lost: 40, lostMs: 5000 },
      { scenario: 'isolate-master-zone', system: 'vigil', path: 'dns', trials: 1, acked: 50, lost: 5, lostMs: 3000 },
      { scenario: 'isolate-master-zone', system: 'sentinel', path: 'sentinel-ioredis', trials: 1, acked: 300, lost: 0, lostMs: 0 },
    ]);
    const table = renderPathTable(rows).split('\n');
    expect(table).toHaveLength(5);
    expect(table[2]).toBe('| isolate-master-zone | vigil | sentinel-ioredis | 200 | 40 | 20.0 % | 2,500 |');
    expect(table[4]).toBe('| isolate-master-zone | sentinel | sentinel-ioredis | 300 | 0 | 0 % | 0 |');
  });
});
