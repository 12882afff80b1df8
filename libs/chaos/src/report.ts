// Summaries, a markdown table and an SVG chart of a chaos run's trial results. Pure: the caller writes files.
import { clopperPearsonUpper, percentile } from './stats.js';
import type { ScenarioSummary, System, TrialResult } from './types.js';

const SYSTEMS: readonly System[] = ['vigil', 'sentinel'];
const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/**
 * One summary per (scenario, system), scenarios in first-seen order and within each vigil before sentinel.
 * Counts and sums run over every trial; the outage percentiles over every client path of the trials without
 * `error`; the lost-write bound is the one-sided 95 % Clopper–Pearson bound of total lost / total acked.
 */
export function summarize(results: TrialResult[]): ScenarioSummary[] {
  const groups = new Map<string, Map<System, TrialResult[]>>();
  for (const r of results) {
    const bySystem = groups.get(r.scenario) ?? new Map<System, TrialResult[]>();
    groups.set(r.scenario, bySystem);
    const trials = bySystem.get(r.system) ?? [];
    bySystem.set(r.system, trials);
    trials.push(r);
  }
  const summaries: ScenarioSummary[] = [];
  for (const [scenario, bySystem] of groups) {
    for (const system of SYSTEMS) {
      const trials = bySystem.get(system);
      if (trials) summaries.push(summarizeTrials(scenario, system, trials));
    }
  }
  return summaries;
}

function summarizeTrials(scenario: string, system: System, trials: TrialResult[]): ScenarioSummary {
  const sum = (pick: (t: TrialResult) => number) => trials.reduce((total, t) => total + pick(t), 0);
  const outages = trials.filter((t) => t.error === undefined).flatMap((t) => Object.values(t.outageMs));
  const acked = sum((t) => t.acked);
  const lost = sum((t) => t.lost);
  return {
    scenario,
    system,
    runs: trials.length,
    errors: trials.filter((t) => t.error !== undefined).length,
    failovers: sum((t) => t.failovers),
    falseFailovers: trials.filter((t) => t.falseFailover).length,
    missedFailovers: trials.filter((t) => t.missedFailover).length,
    acked,
    lost,
    // More lost than acknowledged cannot be a proportion; the bound is then simply 1.
    lostRateUpper95: clopperPearsonUpper(Math.min(lost, acked), acked),
    indeterminate: sum((t) => t.indeterminate),
    deposedAcks: sum((t) => t.deposedAcks),
    splitBrainMs: sum((t) => t.splitBrainMs),
    outageP50Ms: percentile(outages, 50),
    outageP99Ms: percentile(outages, 99),
  };
}

/** A percentage rounded up to two significant digits (so it stays an upper bound): 0.0998 % → `0.10`. */
function percentUp(rate: number): string {
  const pct = rate * 100;
  if (!(pct > 0)) return '0';
  const scale = 10 ** (1 - Math.floor(Math.log10(pct)));
  const up = Math.ceil(pct * scale * (1 - 1e-12)) / scale;
  const decimals = Math.max(0, 1 - Math.floor(Math.log10(up)));
  return up.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

const ms = (v: number): string => (Number.isFinite(v) ? INT.format(v) : '—');

/** GitHub markdown table of the summaries, one row each, numbers with en-US thousands separators. */
export function renderTable(summaries: ScenarioSummary[]): string {
  const header = [
    'scenario',
    'system',
    'runs',
    'failovers',
    'false failovers',
    'missed',
    'acked writes',
    'lost acked (95 % upper bound of the rate)',
    'indeterminate',
    'deposed-master acks',
    'split-brain ms',
    'outage p50 / p99 (ms)',
  ];
  const rows = summaries.map((s) => [
    s.scenario.replace(/\|/g, '\\|'),
    s.system,
    s.errors > 0 ? `${INT.format(s.runs)} (${INT.format(s.errors)} failed)` : INT.format(s.runs),
    INT.format(s.failovers),
    INT.format(s.falseFailovers),
    INT.format(s.missedFailovers),
    INT.format(s.acked),
    `${INT.format(s.lost)} (≤ ${percentUp(s.lostRateUpper95)} %)`,
    INT.format(s.indeterminate),
    INT.format(s.deposedAcks),
    INT.format(s.splitBrainMs),
    `${ms(s.outageP50Ms)} / ${ms(s.outageP99Ms)}`,
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i < 2 ? '---' : '---:'));
  return [line(header), line(align), ...rows.map(line)].join('\n') + '\n';
}

/** Escapes the XML special characters of text or an attribute value. */
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

// Chart layout (px) and colours: text #1a1a1a (17:1 on white), muted text #595959 (7:1); vigil solid, sentinel hatched.
const WIDTH = 900;
const LEFT = 96;
const RIGHT = 200;
const TOP = 72;
const GROUP = 68;
const HEADER = 20;
const ROW = 20;
const BAR = 12;
const TEXT = '#1a1a1a';
const MUTED = '#595959';
const VIGIL = '#1f4e8c';
const SENTINEL = '#9c4400';
const STYLE: Record<System, string> = { vigil: `fill="${VIGIL}"`, sentinel: `fill="url(#chaos-hatch)" stroke="${SENTINEL}" stroke-width="1"` };

/** Seconds with 2, 1 or 0 decimals as the value grows. */
function seconds(msValue: number): string {
  const s = msValue / 1000;
  const decimals = s < 10 ? 2 : s < 100 ? 1 : 0;
  return s.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A 1-2-5 tick step giving about six ticks up to `max`. */
function tickStep(max: number): number {
  const raw = max / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/**
 * A self-contained SVG horizontal grouped bar chart of the client write outage: one group per scenario, a bar
 * per system to the p50 with a whisker to the p99, values at the bar ends, an x axis in seconds with gridlines
 * and a legend. Sentinel bars are hatched and vigil's solid, so they differ without colour; a system that did not
 * run a scenario shows "not run", one without a measured outage "n/a". Bars are `<rect class="bar">`.
 */
export function renderOutageSvg(summaries: ScenarioSummary[], title: string): string {
  const scenarios = [...new Set(summaries.map((s) => s.scenario))];
  const finite = summaries.flatMap((s) => [s.outageP50Ms, s.outageP99Ms]).filter(Number.isFinite);
  const maxSeconds = Math.max(0, ...finite) / 1000;
  const step = maxSeconds > 0 ? tickStep(maxSeconds) : 0.2;
  const domain = maxSeconds > 0 ? Math.ceil(maxSeconds / step - 1e-9) * step : 1;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const at = (v: number) => Math.round(v * 100) / 100; // 2 decimals, no float noise in the markup
  const px = (msValue: number) => at(((msValue / 1000) * plotWidth) / domain);
  const bottom = TOP + Math.max(1, scenarios.length) * GROUP;
  const height = bottom + 52;
  const text = (x: number, y: number, body: string, attrs = '') => `<text x="${x}" y="${y}"${attrs ? ' ' + attrs : ''}>${escapeXml(body)}</text>`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="chaos-title" font-family="sans-serif" font-size="12" fill="${TEXT}">`,
    `<title id="chaos-title">${escapeXml(title)}</title>`,
    `<defs><pattern id="chaos-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">` +
      `<rect width="6" height="6" fill="#fbe3cf"/><line x1="0" y1="0" x2="0" y2="6" stroke="${SENTINEL}" stroke-width="3"/></pattern></defs>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(12, 26, title, 'font-size="16" font-weight="bold"'),
  ];
  // Legend: the two systems' bar styles, then the whisker.
  out.push(`<rect x="${LEFT}" y="41" width="16" height="${BAR}" ${STYLE.vigil}/>`, text(LEFT + 22, 51, 'vigil'));
  out.push(`<rect x="${LEFT + 80}" y="41" width="16" height="${BAR}" ${STYLE.sentinel}/>`, text(LEFT + 102, 51, 'sentinel (Redis Sentinel)'));
  const wx = LEFT + 280;
  out.push(`<line x1="${wx}" y1="47" x2="${wx + 16}" y2="47" stroke="${TEXT}" stroke-width="1.5"/>`);
  out.push(`<line x1="${wx + 16}" y1="41" x2="${wx + 16}" y2="53" stroke="${TEXT}" stroke-width="1.5"/>`, text(wx + 22, 51, 'bar: p50 · whisker: p99'));
  // Grid and x axis.
  for (let i = 0; i * step <= domain + 1e-9; i++) {
    const x = at(LEFT + px(i * step * 1000));
    const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    out.push(`<line x1="${x}" y1="${TOP}" x2="${x}" y2="${bottom}" stroke="#d0d0d0" stroke-width="1"/>`);
    out.push(text(x, bottom + 16, (i * step).toFixed(decimals), `text-anchor="middle" font-size="11" fill="${MUTED}"`));
  }
  out.push(`<line x1="${LEFT}" y1="${bottom}" x2="${LEFT + plotWidth}" y2="${bottom}" stroke="${MUTED}" stroke-width="1"/>`);
  out.push(text(LEFT + plotWidth / 2, bottom + 38, 'client write outage (s)', 'text-anchor="middle"'));
  if (scenarios.length === 0) out.push(text(LEFT + 8, TOP + GROUP / 2, 'no results', `fill="${MUTED}"`));
  scenarios.forEach((scenario, g) => {
    const top = TOP + g * GROUP;
    // A white halo keeps the name legible where it crosses gridlines.
    out.push(text(12, top + 15, scenario, 'font-size="13" font-weight="bold" stroke="#ffffff" stroke-width="4" paint-order="stroke"'));
    SYSTEMS.forEach((system, j) => {
      const y = top + HEADER + j * ROW;
      const mid = y + BAR / 2;
      out.push(text(LEFT - 8, mid + 4, system, 'text-anchor="end" font-size="11"'));
      const s = summaries.find((x) => x.scenario === scenario && x.system === system);
      if (!s || !Number.isFinite(s.outageP50Ms)) {
        out.push(text(LEFT + 6, mid + 4, s ? 'n/a' : 'not run', `font-size="11" font-style="italic" fill="${MUTED}"`));
        return;
      }
      const w50 = px(s.outageP50Ms);
      const hasP99 = Number.isFinite(s.outageP99Ms);
      const w99 = hasP99 ? px(s.outageP99Ms) : w50;
      const label = `${seconds(s.outageP50Ms)} s · p99 ${hasP99 ? seconds(s.outageP99Ms) + ' s' : 'n/a'}`;
      out.push(
        `<rect class="bar" data-scenario="${escapeXml(scenario)}" data-system="${system}" x="${LEFT}" y="${y}" width="${w50}" height="${BAR}" ${STYLE[system]}>` +
          `<title>${escapeXml(`${scenario}, ${system}: p50 ${label}`)}</title></rect>`,
      );
      if (w99 > w50) {
        out.push(`<line x1="${at(LEFT + w50)}" y1="${mid}" x2="${at(LEFT + w99)}" y2="${mid}" stroke="${TEXT}" stroke-width="1.5"/>`);
        out.push(`<line x1="${at(LEFT + w99)}" y1="${y}" x2="${at(LEFT + w99)}" y2="${y + BAR}" stroke="${TEXT}" stroke-width="1.5"/>`);
      }
      out.push(text(at(LEFT + Math.max(w50, w99) + 6), mid + 4, label, 'font-size="11"'));
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Per (scenario, system, client path) of `results` (scenarios in first-seen order): trials, acknowledged and lost writes, and the time's worth of writes lost, summed over trials. */
export function lostByPath(
  results: TrialResult[],
): { scenario: string; system: System; path: string; trials: number; acked: number; lost: number; lostMs: number }[] {
  const rows = new Map<string, { scenario: string; system: System; path: string; trials: number; acked: number; lost: number; lostMs: number }>();
  for (const r of results) {
    for (const [path, v] of Object.entries(r.byPath ?? {})) {
      const key = `${r.scenario}\u0000${r.system}\u0000${path}`;
      const row = rows.get(key) ?? { scenario: r.scenario, system: r.system, path, trials: 0, acked: 0, lost: 0, lostMs: 0 };
      row.trials += 1;
      row.acked += v.acked;
      row.lost += v.lost;
      row.lostMs += v.lostMs ?? 0;
      rows.set(key, row);
    }
  }
  return [...rows.values()];
}

/** A markdown table of `lostByPath` rows: scenario | system | client path | acked | lost | lost share | time's worth lost per trial. */
export function renderPathTable(rows: ReturnType<typeof lostByPath>): string {
  const pct = (lost: number, acked: number) => (acked === 0 ? '—' : `${((100 * lost) / acked).toFixed(lost === 0 ? 0 : 1)} %`);
  const lines = [
    '| scenario | system | client path | acked writes | lost acked | lost share | writes lost, as time (ms per trial) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${r.system} | ${r.path} | ${INT.format(r.acked)} | ${INT.format(r.lost)} | ${pct(r.lost, r.acked)} | ${INT.format(r.lostMs / Math.max(1, r.trials))} |`,
    );
  }
  return lines.join('\n');
}
