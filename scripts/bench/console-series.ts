/**
 * One series of bench:console's measures. It runs twice, with the agents probing and with them paused,
 * to tell the page's own cost from that of the probing load on a small machine.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Browser } from 'playwright-core';
import { api } from './admin-api.js';
import { type ApiTimes, type Overview, timeOverview } from './console-api.js';
import { f, healthCounts, kB, max } from './console-format.js';
import { coldLoad, type Load } from './console-page.js';
import { API_CALLS, CLUSTERS, LOADS, QUIET_WAIT_S } from './console-settings.js';
import { busy } from './cpu-busy.js';
import { metric } from './metrics.js';
import { percentile } from './report.js';

export interface Phase {
  /** Cores busy (the machine's, and this benchmark's processes') over 3 s before the loads and during them. */
  before: { machine: number; own: number };
  during: { machine: number; own: number };
  /** The overview's health counts before the loads and after them. */
  counts: Record<string, number>;
  /** The overview's health counts after each load, and the agents' own probe lag after the last one. */
  healthAfter: string[];
  agentLagMs: number[];
  api: ApiTimes;
  loads: Load[];
}

/**
 * The machine is shared: waits (up to BENCH_QUIET_WAIT_S, 300 s) until processes other than this
 * benchmark's use less than a quarter of a core over 3 s, so that they do not take the browser's share.
 */
async function quietMachine(name: string): Promise<void> {
  const deadline = Date.now() + QUIET_WAIT_S * 1000;
  let warned = false;
  for (;;) {
    const { machine, own } = await busy(() => sleep(3000));
    if (machine - own < 0.25) return;
    if (Date.now() > deadline) {
      console.log(`[${name}] other processes still use ${f(machine - own, 2)} cores; measuring anyway`);
      return;
    }
    if (!warned) console.log(`[${name}] waiting for other processes on this machine to quieten (${f(machine - own, 2)} cores busy)…`);
    warned = true;
  }
}

/** Waits (up to 30 s) for the overview's health counts to hold still for 3 s, and returns them. */
async function steadyCounts(base: string): Promise<Record<string, number>> {
  const deadline = Date.now() + 30_000;
  let last = '';
  let since = Date.now();
  for (;;) {
    const counts = (await api<Overview>(base, 'GET', '/api/v1/overview')).counts;
    const now = JSON.stringify(counts);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= 3000 || Date.now() > deadline) return counts;
    await sleep(500);
  }
}

/**
 * One series: once the machine is quiet and the overview's counts are steady, the API timed from Node,
 * then LOADS cold loads, with the cores busy before and during them and the overview's health after each.
 * `agentsRunning` only decides whether the agents' probe lag is worth printing.
 */
export async function measurePhase(name: string, base: string, browser: Browser, search: string, agentsRunning: boolean): Promise<Phase> {
  await quietMachine(name);
  await steadyCounts(base);
  const before = await busy(() => sleep(3000));
  const { counts, items } = await api<Overview>(base, 'GET', '/api/v1/overview');
  const unwell = items.find((c) => c.health !== 'ok');
  if (unwell) console.log(`[${name}] not every cluster is ok, e.g. ${unwell.name}: ${unwell.health} (${(unwell.reasons ?? []).join('; ')})`);
  const apiTimes = await timeOverview(base, API_CALLS);
  console.log(
    `[${name}] machine ${f(before.machine, 2)} cores busy (this benchmark ${f(before.own, 2)}); GET /api/v1/overview p50 ${f(percentile(apiTimes.ms, 50))} ms, p95 ${f(percentile(apiTimes.ms, 95))} ms, max ${f(max(apiTimes.ms))} ms; ${kB(apiTimes.bytes)} kB (${kB(apiTimes.gzip)} kB gzipped)`,
  );
  const healthAfter: string[] = [];
  const during = await busy(async () => {
    const loads: Load[] = [];
    for (let i = 0; i < LOADS; i++) {
      const load = await coldLoad(browser, base, search);
      loads.push(load);
      healthAfter.push(healthCounts((await api<Overview>(base, 'GET', '/api/v1/overview')).counts));
      console.log(
        `[${name}] load ${i + 1}: ${CLUSTERS} rows in the DOM ${f(load.rows)} ms, painted ${f(load.rowsFrame)} ms; search ${f(load.search)} ms (painted ${f(load.searchFrame)} ms); clear ${f(load.clear)} ms; interactive ${f(load.interactive)} ms`,
      );
      if (load.errors.length > 0) console.log(`  page errors: ${load.errors.join(' | ')}`);
    }
    return loads;
  });
  const agentLagMs = await Promise.all(
    ['bench-a', 'bench-b', 'bench-c'].map(async (a) => ((await metric(base, 'vigil_agent_probe_lag_seconds', { agent: a })) ?? NaN) * 1000),
  );
  const lag = agentsRunning ? `; agents' probe lag now ${agentLagMs.map((x) => f(x)).join(' / ')} ms` : '';
  console.log(`[${name}] overview health after each load: ${healthAfter.join(' | ')}${lag}`);
  return { before, during, counts, healthAfter, agentLagMs, api: apiTimes, loads: during.value };
}
