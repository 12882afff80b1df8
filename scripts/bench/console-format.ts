/** Number formatting shared by bench:console's progress lines, its table and its BENCHMARKS.md section. */

/** `ok 990, degraded 10`: the labels with clusters. */
export function healthCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([h, n]) => `${h} ${f(n)}`)
    .join(', ');
}

/** `n` with `d` decimals and thousands separators, en-US whatever the locale; `n/a` for NaN. */
export const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
/** Bytes as kB (1,000 bytes, one decimal), the unit the budgets are given in. */
export const kB = (bytes: number) => f(bytes / 1000, 1);
/** The largest of `xs`; NaN when empty, like `percentile`. */
export const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
