import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Nearest-rank percentile of `values` (NaN when empty). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Replaces this benchmark's section of BENCHMARKS.md (between its markers), or appends it, so each
 * benchmark rewrites only its own numbers.
 */
export function writeBenchmarkSection(name: string, body: string, file = 'BENCHMARKS.md'): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  const next = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
  // In the repository's format (tables aligned), so the lint stays green after a run.
  try {
    execFileSync(process.execPath, ['node_modules/prettier/bin/prettier.cjs', '--write', '--log-level', 'warn', file], { stdio: 'inherit' });
  } catch {
    console.error(`${file} written but not formatted: run \`npx prettier --write ${file}\``);
  }
}
