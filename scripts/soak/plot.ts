import type { Sample } from './sampler.js';

export interface Panel {
  title: string;
  series: { key: string; label: string }[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];
const W = 900;
const PANEL_H = 170;
const LEFT = 60;
const RIGHT = 170;
const TOP = 34;
const GAP = 44;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" upper bound and step for an axis from 0 to `max`. */
function niceAxis(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

/**
 * Small multiples over time (minutes): one panel per group of series, each from 0, with a vertical
 * dashed line at each fault (numbered as in the report's fault table). Plain SVG, no dependencies.
 */
export function renderPlot(samples: Sample[], panels: Panel[], faults: { at: number; n: number }[], title: string): string {
  const plotW = W - LEFT - RIGHT;
  // The time axis ends at the last sample (ticks at a round step up to it), not at a rounded-up end.
  const endMin = Math.max(1, samples[samples.length - 1]?.t ?? 60) / 60;
  const xAxis = { top: endMin, step: niceAxis(endMin).step };
  const x = (t: number) => LEFT + (t / 60 / xAxis.top) * plotW;
  const H = TOP + panels.length * (PANEL_H + GAP) + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, pi) => {
    const y0 = TOP + pi * (PANEL_H + GAP) + 16;
    const max = Math.max(0, ...panel.series.flatMap((s) => samples.map((x) => x.values[s.key] ?? NaN).filter(Number.isFinite)));
    const yAxis = niceAxis(max);
    const y = (v: number) => y0 + PANEL_H - (v / yAxis.top) * PANEL_H;
    out.push(`<text x="${LEFT}" y="${y0 - 6}" font-weight="bold">${esc(panel.title)}</text>`);
    for (let v = 0; v <= yAxis.top + 1e-9; v += yAxis.step) {
      out.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${+v.toPrecision(6)}</text>`);
    }
    for (let m = 0; m <= xAxis.top + 1e-9; m += xAxis.step) {
      out.push(`<text x="${x(m * 60).toFixed(1)}" y="${y0 + PANEL_H + 14}" text-anchor="middle" fill="#555">${+m.toPrecision(6)}</text>`);
    }
    out.push(`<text x="${LEFT + plotW}" y="${y0 + PANEL_H + 28}" text-anchor="end" fill="#555">minutes</text>`);
    for (const f of faults) {
      out.push(`<line x1="${x(f.at).toFixed(1)}" x2="${x(f.at).toFixed(1)}" y1="${y0}" y2="${y0 + PANEL_H}" stroke="#999" stroke-dasharray="3,3"/>`);
      if (pi === 0) out.push(`<text x="${(x(f.at) + 2).toFixed(1)}" y="${y0 + 10}" fill="#777" font-size="9">${f.n}</text>`);
    }
    out.push(`<rect x="${LEFT}" y="${y0}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#888"/>`);
    panel.series.forEach((s, si) => {
      const color = COLORS[si % COLORS.length]!;
      // A gap (NaN: process down, or a restart) breaks the line.
      let d = '';
      let pen = false;
      for (const sample of samples) {
        const v = sample.values[s.key];
        if (v === undefined || !Number.isFinite(v)) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${x(sample.t).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      }
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.4"/>`);
      const ly = y0 + 12 + si * 15;
      out.push(`<line x1="${LEFT + plotW + 12}" x2="${LEFT + plotW + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
      out.push(`<text x="${LEFT + plotW + 34}" y="${ly}">${esc(s.label)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
