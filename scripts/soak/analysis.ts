import type { Sample } from './sampler.js';

/** First, last and largest value of a series and its growth per hour after warm-up. */
export interface SeriesSummary {
  key: string;
  first: number;
  last: number;
  max: number;
  /** Least-squares slope per hour over the samples after warm-up (within each process incarnation); NaN with too few. */
  perHour: number;
  /** Samples the slope was fitted on. */
  fitted: number;
}

/**
 * Least-squares slope (units per second) of points grouped in segments, with one intercept per segment
 * and one common slope: the within-segment (pooled) estimator. A restarted process starts a new
 * segment, so the drop at a restart is not read as a decrease, nor its warm-up as growth.
 */
export function pooledSlope(points: { t: number; y: number; segment: number }[]): number {
  const bySegment = new Map<number, { t: number; y: number }[]>();
  for (const p of points) {
    if (!Number.isFinite(p.y)) continue;
    if (!bySegment.has(p.segment)) bySegment.set(p.segment, []);
    bySegment.get(p.segment)!.push(p);
  }
  let sxy = 0;
  let sxx = 0;
  for (const seg of bySegment.values()) {
    if (seg.length < 2) continue;
    const mt = seg.reduce((a, p) => a + p.t, 0) / seg.length;
    const my = seg.reduce((a, p) => a + p.y, 0) / seg.length;
    for (const p of seg) {
      sxy += (p.t - mt) * (p.y - my);
      sxx += (p.t - mt) ** 2;
    }
  }
  return sxx > 0 ? sxy / sxx : NaN;
}

/**
 * Summary of `key` over `samples`. Samples before `warmupS` are left out of the slope, and so are the
 * first `restartWarmupS` of each later incarnation when `incarnationKey` names the process's
 * incarnation column.
 */
export function summarize(samples: Sample[], key: string, warmupS: number, restartWarmupS: number, incarnationKey?: string): SeriesSummary {
  const values = samples.map((s) => s.values[key] ?? NaN).filter(Number.isFinite);
  const segmentStart = new Map<number, number>();
  const points: { t: number; y: number; segment: number }[] = [];
  for (const s of samples) {
    const segment = incarnationKey ? (s.values[incarnationKey] ?? 0) : 0;
    if (!segmentStart.has(segment)) segmentStart.set(segment, s.t);
    if (s.t < warmupS) continue;
    if (incarnationKey && segment !== (samples[0]?.values[incarnationKey] ?? 0) && s.t - segmentStart.get(segment)! < restartWarmupS) continue;
    points.push({ t: s.t, y: s.values[key] ?? NaN, segment });
  }
  return {
    key,
    first: values[0] ?? NaN,
    last: values[values.length - 1] ?? NaN,
    max: values.length ? Math.max(...values) : NaN,
    perHour: pooledSlope(points) * 3600,
    fitted: points.filter((p) => Number.isFinite(p.y)).length,
  };
}

/** Ordinary least-squares slope through (t, y) per second; the same as pooledSlope with one segment. */
export function slope(points: { t: number; y: number }[]): number {
  return pooledSlope(points.map((p) => ({ ...p, segment: 0 })));
}
