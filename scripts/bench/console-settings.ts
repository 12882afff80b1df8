/**
 * bench:console's knobs, read from the environment once, and its budgets: in one module so that the
 * measurement and the report it writes cannot disagree about them.
 */
export const CLUSTERS = Number(process.env['BENCH_CLUSTERS'] ?? 1000);
export const LOADS = Number(process.env['BENCH_LOADS'] ?? 5);
export const API_CALLS = Number(process.env['BENCH_API_CALLS'] ?? 20);
export const PROBE_INTERVAL_MS = Number(process.env['PROBE_INTERVAL_MS'] ?? 500);
export const DOWN_AFTER_MS = 1000;
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const INITIAL_JS_BUDGET = 200_000; // bytes gzipped
export const INTERACTIVE_BUDGET_MS = 1000;
export const QUIET_WAIT_S = Number(process.env['BENCH_QUIET_WAIT_S'] ?? 300);
export const SECTION = 'bench:console';
