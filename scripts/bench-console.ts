/**
 * `npm run bench:console`: the web console's overview with 1,000 clusters, in headless Chromium, on this
 * machine. The setup is bench:detect's: a fresh PostgreSQL, the node farm serving 1,000 clusters of 3
 * nodes created through the REST API, three probe agents reporting every probe interval to one
 * controller, here serving a console built by Vite for this run. Measured:
 *
 * 1. Initial JavaScript: every script and module preload of the built `index.html`, gzipped (zlib level
 *    9); over the 200 kB budget the run exits non-zero (after writing its numbers).
 * 2. `GET /api/v1/overview` from this process: BENCH_API_CALLS (20) sequential calls, time to the last
 *    byte of the body, and its size.
 * 3. BENCH_LOADS (5) cold loads of `/#/`, each in a new browser context: in-page times from navigation
 *    start to every row in the DOM and painted, then from entering a cluster's name into the search box
 *    to the table showing only that row, and from clearing it to every row again. Interactive (budget
 *    1 s) is rows painted + search painted.
 *
 * 2 and 3 run twice: with the agents probing, then with the agents and the node farm stopped (SIGSTOP),
 * to tell the page's own cost from that of the probing load on a small machine.
 *
 * Each series first waits (BENCH_QUIET_WAIT_S, 300 s at most) for other processes on the machine to
 * use less than a quarter of a core, and the report says how busy the machine was.
 *
 * Environment: BENCH_CLUSTERS (1000; another count leaves BENCHMARKS.md alone), BENCH_LOADS (5),
 * BENCH_API_CALLS (20), PROBE_INTERVAL_MS (500), BENCH_CONSOLE_DIR (a built console to serve; else one
 * is built into a temporary directory), BENCH_DATABASE_URL (else a temporary PostgreSQL is started),
 * CHROMIUM_PATH (/usr/bin/chromium).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os, { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Browser, chromium } from 'playwright-core';
import * as prettier from 'prettier';
import { initialScripts, scriptFile } from '../libs/testing/src/initial-scripts.js';
import { createDatabase, freePort, type ManagedProcess, type PostgresServer, startPostgres, startProcess, waitFor } from '../libs/testing/src/index.js';
import { api, BENCH_ADMIN_TOKEN, startBenchAgents } from './bench/admin-api.js';
import { machineBusySeconds, nextMessage, startNodeChild } from './bench/processes.js';
import { percentile, writeBenchmarkSection } from './bench/report.js';

const CLUSTERS = Number(process.env['BENCH_CLUSTERS'] ?? 1000);
const LOADS = Number(process.env['BENCH_LOADS'] ?? 5);
const API_CALLS = Number(process.env['BENCH_API_CALLS'] ?? 20);
const PROBE_INTERVAL_MS = Number(process.env['PROBE_INTERVAL_MS'] ?? 500);
const DOWN_AFTER_MS = 1000;
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const INITIAL_JS_BUDGET = 200_000; // bytes gzipped
const INTERACTIVE_BUDGET_MS = 1000;
const QUIET_WAIT_S = Number(process.env['BENCH_QUIET_WAIT_S'] ?? 300);
const SECTION = 'bench:console';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup, on every exit path (SIGINT and SIGTERM included) ----

const cleanups: (() => Promise<unknown> | void)[] = [];
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse()) {
      await Promise.race([Promise.resolve().then(step), sleep(15_000)]).catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
    }
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping everything this benchmark started…`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---- 1. the console's build and its initial JavaScript ----

/** Builds the console with Vite into a temporary directory (the shared dist/console is left alone). */
async function buildConsole(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'vigil-bench-console-'));
  cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));
  const require = createRequire(import.meta.url);
  const viteBin = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const vite = startProcess(process.execPath, [viteBin, 'build', '--config', 'apps/console/vite.config.ts', '--outDir', outDir, '--emptyOutDir']);
  cleanups.push(() => vite.stop('SIGTERM', 2000));
  const code = await vite.exited;
  if (code !== 0) throw new Error(`vite build failed (${code}): ${vite.output().slice(-3000)}`);
  return outDir;
}

interface InitialJs {
  files: { file: string; bytes: number; gzip: number }[];
  bytes: number;
  gzip: number;
}

function initialJs(consoleDir: string): InitialJs {
  const refs = initialScripts(readFileSync(join(consoleDir, 'index.html'), 'utf8'));
  if (refs.length === 0) throw new Error(`no script in ${consoleDir}/index.html`);
  const files = refs.map((ref) => {
    const file = scriptFile(ref);
    const content = readFileSync(join(consoleDir, file));
    return { file, bytes: content.length, gzip: gzipSync(content, { level: 9 }).length };
  });
  return { files, bytes: files.reduce((a, f) => a + f.bytes, 0), gzip: files.reduce((a, f) => a + f.gzip, 0) };
}

// ---- 2. the API ----

async function metric(base: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

interface OverviewItem {
  name: string;
  health: string;
  master?: string | null;
  reasons?: string[];
}
interface Overview {
  items: OverviewItem[];
  counts: Record<string, number>;
}

interface ApiTimes {
  ms: number[];
  bytes: number;
  gzip: number;
  encoding: string | null;
}

async function timeOverview(base: string, calls: number): Promise<ApiTimes> {
  const ms: number[] = [];
  let body = '';
  let encoding: string | null = null;
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/api/v1/overview`, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
    body = await res.text();
    ms.push(performance.now() - t0);
    if (!res.ok) throw new Error(`GET /api/v1/overview: ${res.status} ${body.slice(0, 300)}`);
    encoding = res.headers.get('content-encoding');
  }
  const raw = Buffer.from(body);
  return { ms, bytes: raw.length, gzip: gzipSync(raw, { level: 9 }).length, encoding };
}

// ---- 3. the page ----

/**
 * Runs in every document of the context before the console's code: records, in `performance.now()`
 * time (from navigation start), when the table first holds every row and the frame after, and, once
 * armed, when the search box gets an input event and when the table then shows what was expected.
 */
const RECORDER = `(() => {
  const ROWS = 'table.clusters > tbody > tr';
  const b = { total: __TOTAL__, full: null, fullFrame: null, target: null, input: null, done: null, doneFrame: null, status: null };
  const afterFrame = (set) => requestAnimationFrame(() => { const c = new MessageChannel(); c.port1.onmessage = () => set(performance.now()); c.port2.postMessage(null); });
  const statusText = () => { for (const s of document.querySelectorAll('[role=status]')) if (/clusters$/.test(s.textContent)) return s.textContent; return null; };
  const check = () => {
    const rows = document.querySelectorAll(ROWS);
    if (b.full === null && rows.length === b.total) { b.full = performance.now(); b.status = statusText(); afterFrame((t) => { b.fullFrame = t; }); }
    const t = b.target;
    if (t && b.input !== null && b.done === null && rows.length === t.rows) {
      const first = rows[0] && rows[0].querySelector('th');
      if (t.first === null || (first && first.textContent === t.first)) { b.done = performance.now(); b.status = statusText(); afterFrame((x) => { b.doneFrame = x; }); }
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
  document.addEventListener('input', (e) => { if (b.target && b.input === null && e.target && e.target.id === 'search') b.input = performance.now(); }, true);
  b.arm = (rows, first) => { b.target = { rows, first }; b.input = null; b.done = null; b.doneFrame = null; };
  window.__vigilBench = b;
})();`;

interface Recorded {
  full: number | null;
  fullFrame: number | null;
  input: number | null;
  done: number | null;
  doneFrame: number | null;
  status: string | null;
}

/** What the recorder puts on the page's window. */
interface InPage {
  __vigilBench: Recorded & { arm(rows: number, first: string | null): void };
}

interface ResourceEntry {
  name: string;
  startTime: number;
  responseEnd: number;
  initiatorType: string;
}

interface Load {
  /** Navigation start → every row in the DOM (before paint), and the frame after (painted). */
  rows: number;
  rowsFrame: number;
  /** Name entered (one input event) → only its row in the DOM; and the frame after. */
  search: number;
  searchFrame: number;
  /** Search cleared (select all, Backspace) → every row again. */
  clear: number;
  /** Every row painted + the search answered and painted. */
  interactive: number;
  /** The same in DOM times, before paint. */
  interactiveDom: number;
  /** Navigation start → the last initial script received, /whoami answered, the overview asked and answered (resource timing). */
  scriptsEnd: number;
  whoamiEnd: number;
  overviewStart: number;
  overviewEnd: number;
  scripts: string[];
  errors: string[];
}

async function coldLoad(browser: Browser, base: string, search: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    await context.addInitScript({ content: `sessionStorage.setItem('vigil.token', ${JSON.stringify(BENCH_ADMIN_TOKEN)});` });
    await context.addInitScript({ content: RECORDER.replace('__TOTAL__', String(CLUSTERS)) });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    const scripts: string[] = [];
    page.on('request', (req) => {
      if (req.resourceType() === 'script') scripts.push(new URL(req.url()).pathname);
    });
    // Functions, not strings: the console's Content-Security-Policy forbids evaluating strings in the page.
    const read = () => page.evaluate(() => ({ ...(globalThis as unknown as InPage).__vigilBench }) as Recorded);
    const recorded = (key: 'fullFrame' | 'doneFrame' | 'done', timeout: number) =>
      page.waitForFunction((k) => ((globalThis as unknown as Partial<InPage>).__vigilBench?.[k] ?? null) !== null, key, { timeout, polling: 50 });
    await page.goto(`${base}/#/`);
    await recorded('fullFrame', 60_000).catch((err: unknown) => {
      throw new Error(`the overview never showed ${CLUSTERS} rows: ${String(err)}; page errors: ${errors.join(' | ') || 'none'}`);
    });
    const loaded = await read();

    await page.evaluate((name) => (globalThis as unknown as InPage).__vigilBench.arm(1, name), search);
    await page.fill('#search', search);
    await recorded('doneFrame', 30_000);
    const filtered = await read();

    await page.evaluate((rows) => (globalThis as unknown as InPage).__vigilBench.arm(rows, null), CLUSTERS);
    await page.locator('#search').selectText();
    await page.keyboard.press('Backspace');
    await recorded('done', 30_000);
    const cleared = await read();

    const timing = await page.evaluate(() =>
      (performance.getEntriesByType('resource') as unknown as ResourceEntry[]).map((e) => ({
        name: e.name,
        startTime: e.startTime,
        responseEnd: e.responseEnd,
        initiatorType: e.initiatorType,
      })),
    );
    const entry = (path: string) => timing.find((e) => new URL(e.name).pathname === path);
    const scriptEnds = timing.filter((e) => e.initiatorType === 'script' || e.name.endsWith('.js')).map((e) => e.responseEnd);
    if (!/^\d[\d,]* clusters$/.test(loaded.status ?? '') || !/^1 of /.test(filtered.status ?? '')) {
      errors.push(`status line: "${loaded.status}", then "${filtered.status}"`);
    }

    return {
      rows: loaded.full!,
      rowsFrame: loaded.fullFrame!,
      search: filtered.done! - filtered.input!,
      searchFrame: filtered.doneFrame! - filtered.input!,
      clear: cleared.done! - cleared.input!,
      interactive: loaded.fullFrame! + (filtered.doneFrame! - filtered.input!),
      interactiveDom: loaded.full! + (filtered.done! - filtered.input!),
      scriptsEnd: scriptEnds.length ? Math.max(...scriptEnds) : NaN,
      whoamiEnd: entry('/api/v1/whoami')?.responseEnd ?? NaN,
      overviewStart: entry('/api/v1/overview')?.startTime ?? NaN,
      overviewEnd: entry('/api/v1/overview')?.responseEnd ?? NaN,
      scripts: [...new Set(scripts)],
      errors,
    };
  } finally {
    await context.close();
  }
}

/** A cluster whose name matches no other cluster's name or master address: searching it leaves one row. */
function uniqueSearch(items: OverviewItem[]): string {
  const matches = (needle: string) => items.filter((c) => c.name.toLowerCase().includes(needle) || (c.master ?? '').includes(needle)).length;
  const middle = Math.floor(items.length / 2);
  for (let i = 0; i < items.length; i++) {
    const name = items[(middle + i) % items.length]!.name;
    if (matches(name.toLowerCase()) === 1) return name;
  }
  throw new Error('no cluster name is unique as a search');
}

// ---- the run ----

/**
 * CPU seconds used so far by this process and every process under it (the browser's included), the
 * children they have reaped counted too: the machine's busy time minus this is other load.
 */
function ownCpuSeconds(): number {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(entry), { ppid: Number(fields[1]), ticks: [11, 12, 13, 14].reduce((a, i) => a + Number(fields[i]), 0) });
    } catch {
      // exited meanwhile
    }
  }
  const mine = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!mine.has(pid) && mine.has(p.ppid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of mine) ticks += procs.get(pid)?.ticks ?? 0;
  return ticks / CLK_TCK;
}

/** Cores busy over `fn`'s run: the whole machine, and this benchmark's own processes. */
async function busy<T>(fn: () => Promise<T>): Promise<{ value: T; machine: number; own: number }> {
  const m0 = machineBusySeconds();
  const o0 = ownCpuSeconds();
  const t0 = Date.now();
  const value = await fn();
  const s = (Date.now() - t0) / 1000;
  return { value, machine: (machineBusySeconds() - m0) / s, own: (ownCpuSeconds() - o0) / s };
}

interface Phase {
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

async function measurePhase(name: string, base: string, browser: Browser, search: string, agentsRunning: boolean): Promise<Phase> {
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

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`bench:console: ${CLUSTERS} clusters × 3 nodes, 3 agents (probe interval ${PROBE_INTERVAL_MS} ms), ${LOADS} cold loads`);

  let consoleDir = process.env['BENCH_CONSOLE_DIR'];
  if (consoleDir) consoleDir = resolve(consoleDir);
  else {
    const t = Date.now();
    consoleDir = await buildConsole();
    console.log(`console built with Vite into ${consoleDir} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }
  const js = initialJs(consoleDir);
  for (const x of js.files) console.log(`  ${x.file}: ${kB(x.bytes)} kB, ${kB(x.gzip)} kB gzipped`);
  console.log(`initial JavaScript: ${kB(js.gzip)} kB gzipped (${kB(js.bytes)} kB) in ${js.files.length} file(s); budget ${kB(INITIAL_JS_BUDGET)} kB`);

  let adminUrl = process.env['BENCH_DATABASE_URL'];
  if (!adminUrl) {
    const pg: PostgresServer = await startPostgres();
    cleanups.push(() => pg.stop());
    adminUrl = pg.adminUrl;
  }
  const databaseUrl = await createDatabase(adminUrl, 'vigil_bench');

  const farm = startNodeChild('dist/scripts/bench/node-farm-process.js', [String(CLUSTERS), '2']);
  cleanups.push(() => farm.stop('SIGTERM', 2000));
  const groups = (await nextMessage<{ groups: number[][] }>(farm, 'ready')).groups;
  console.log(`node farm: ${groups.length * 3} nodes in process ${farm.child.pid}`);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const controller = startProcess('node', ['dist/apps/controller/src/main.js'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      VIGIL_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      VIGIL_SECRET_KEY: 'c'.repeat(64),
      CONTROLLER_NAME: 'bench',
      LOG_LEVEL: 'warn',
      CONSOLE_DIR: consoleDir,
      // The agents are paused (SIGSTOP) for the second series of loads: they must not turn stale meanwhile.
      AGENT_STALE_AFTER_MS: '3600000',
    },
  });
  cleanups.push(() => controller.stop('SIGTERM', 5000));
  await waitFor(
    async () => {
      if (controller.child.exitCode !== null) throw new Error(`controller exited: ${controller.output().slice(-2000)}`);
      return (await fetch(`${base}/health/ready`).catch(() => undefined))?.ok;
    },
    60_000,
    'controller ready',
  );

  const t1 = Date.now();
  await inBatches(groups, 8, async (group) => {
    await api(base, 'POST', '/api/v1/clusters', {
      name: `c${group[0]!}`,
      nodes: group.map((p) => ({ host: '127.0.0.1', port: p })),
      quorum: 2,
      downAfterMs: DOWN_AFTER_MS,
      // As in bench:detect: the farm's nodes refuse REPLICAOF, so failovers would only fail and retry.
      autoFailover: false,
    });
  });
  console.log(`${CLUSTERS} clusters created through the REST API (${((Date.now() - t1) / 1000).toFixed(1)} s)`);

  const agentToken = (await api<{ token: string }>(base, 'POST', '/api/v1/tokens', { name: 'bench-agents', role: 'agent' })).token;
  const agents: ManagedProcess[] = startBenchAgents(base, agentToken, PROBE_INTERVAL_MS);
  cleanups.push(() => Promise.all(agents.map((a) => a.stop('SIGTERM', 5000))));
  const nodes = groups.length * 3;
  await waitFor(async () => (await metric(base, 'vigil_detection_nodes', { state: 'up' })) === nodes, 120_000, 'every node up with agents reporting', 500);
  await waitFor(
    async () => ((await api<Overview>(base, 'GET', '/api/v1/overview')).counts['ok'] ?? 0) === CLUSTERS,
    60_000,
    `${CLUSTERS} clusters ok in the overview`,
    500,
  ).catch(() => console.log('not every cluster is ok in the overview; measuring anyway'));
  console.log('all nodes up; settling 5 s');
  await sleep(5000);
  const search = uniqueSearch((await api<Overview>(base, 'GET', '/api/v1/overview')).items);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  cleanups.push(() => browser.close());

  const probing = await measurePhase('agents probing', base, browser, search, true);

  // The same with the agents and the node farm stopped (SIGSTOP): the page's own cost on a machine
  // that is not saturated by the probing load. The controller keeps its state (agents do not turn stale).
  const paused = [...agents, farm];
  const signal = (sig: NodeJS.Signals) => paused.forEach((p) => p.child.exitCode === null && p.child.kill(sig));
  cleanups.push(() => signal('SIGCONT'));
  signal('SIGSTOP');
  await sleep(2000);
  const quiet = await measurePhase('agents paused', base, browser, search, false);
  signal('SIGCONT');

  const expectedScripts = new Set(js.files.map((x) => `/${x.file}`));
  const loads = [...probing.loads, ...quiet.loads];
  const result: Result = {
    at: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    chromium: browser.version(),
    seconds: (Date.now() - started) / 1000,
    js,
    search,
    probing,
    quiet,
    extraScripts: [...new Set(loads.flatMap((l) => l.scripts))].filter((x) => !expectedScripts.has(x)),
    pageErrors: loads.reduce((n, l) => n + l.errors.length, 0),
  };
  print(result);
  if (CLUSTERS === 1000) {
    writeSection(render(result));
    await formatMarkdown('BENCHMARKS.md');
    console.log('BENCHMARKS.md updated');
  }
  if (js.gzip > INITIAL_JS_BUDGET) {
    console.error(`initial JavaScript ${kB(js.gzip)} kB gzipped is over the ${kB(INITIAL_JS_BUDGET)} kB budget`);
    process.exitCode = 1;
  }
}

interface Result {
  at: string;
  machine: string;
  chromium: string;
  seconds: number;
  js: InitialJs;
  search: string;
  probing: Phase;
  quiet: Phase;
  extraScripts: string[];
  pageErrors: number;
}

/** What the labels the probing series saw mean here. */
function labelNotes(r: Result): string {
  const seen = r.probing.healthAfter.join(' ');
  const notes: string[] = [];
  if (seen.includes('cannot-decide'))
    notes.push(
      `cannot-decide: fewer than two of the three agents could vote (an agent votes only while its probe lag plus its interval stays below two thirds of the down-after, here a lag under ${f((DOWN_AFTER_MS * 2) / 3 - PROBE_INTERVAL_MS)} ms; the agents' lag after the loads: ${r.probing.agentLagMs.map((x) => f(x)).join(' / ')} ms)`,
    );
  if (seen.includes('master-down')) notes.push('master-down: a majority of the agents saw the master down (automatic failover is off, as in `bench:detect`)');
  if (seen.includes('master-unreachable')) notes.push('master-unreachable: some agents saw the master down');
  return notes.length ? `; ${notes.join('; ')}` : '';
}

/** `ok 1,000 ×2 → cannot-decide 1,000 ×3`: consecutive equal values once each, with their count. */
function runLengths(values: string[]): string {
  const runs: [string, number][] = [];
  for (const v of values) {
    const last = runs[runs.length - 1];
    if (last && last[0] === v) last[1]++;
    else runs.push([v, 1]);
  }
  return runs.map(([v, n]) => (n > 1 ? `${v} ×${n}` : v)).join(' → ');
}

/** `ok 990, degraded 10`: the labels with clusters. */
function healthCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([h, n]) => `${h} ${f(n)}`)
    .join(', ');
}

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const kB = (bytes: number) => f(bytes / 1000, 1);
const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
const of = (p: Phase, key: Exclude<keyof Load, 'scripts' | 'errors'>) => p.loads.map((l) => l[key]);

const PAGE_ROWS: [string, Exclude<keyof Load, 'scripts' | 'errors'>][] = [
  ['Navigation → last initial script received', 'scriptsEnd'],
  ['Navigation → `/api/v1/whoami` answered', 'whoamiEnd'],
  ['Navigation → `/api/v1/overview` asked', 'overviewStart'],
  ['Navigation → `/api/v1/overview` answered', 'overviewEnd'],
  [`Navigation → ${f(CLUSTERS)} rows in the DOM`, 'rows'],
  [`Navigation → ${f(CLUSTERS)} rows painted (next frame)`, 'rowsFrame'],
  ['Search: name entered → its row alone in the DOM', 'search'],
  ['Search: name entered → its row alone painted', 'searchFrame'],
  [`Search cleared → ${f(CLUSTERS)} rows in the DOM`, 'clear'],
  ['**Interactive**: rows painted + search painted', 'interactive'],
  ['Interactive in DOM times (before paint)', 'interactiveDom'],
];

function verdict(xs: number[]): string {
  if (max(xs) < INTERACTIVE_BUDGET_MS) return 'met';
  return percentile(xs, 50) < INTERACTIVE_BUDGET_MS ? 'met at the median, not at the max' : 'not met';
}

function print(r: Result): void {
  console.log('');
  console.log(`${'ms, median / max'.padEnd(56)}${'agents probing'.padStart(18)}${'agents paused'.padStart(18)}`);
  const cell = (xs: number[]) => `${f(percentile(xs, 50))} / ${f(max(xs))}`.padStart(18);
  for (const [label, key] of PAGE_ROWS) console.log(`${label.replace(/[`*]/g, '').padEnd(56)}${cell(of(r.probing, key))}${cell(of(r.quiet, key))}`);
  console.log(
    `${'GET /api/v1/overview from Node, p50 / p95'.padEnd(56)}${[r.probing, r.quiet].map((p) => `${f(percentile(p.api.ms, 50))} / ${f(percentile(p.api.ms, 95))}`.padStart(18)).join('')}`,
  );
  console.log(
    `${'cores busy before / during the loads: machine'.padEnd(56)}${[r.probing, r.quiet].map((p) => `${f(p.before.machine, 2)} / ${f(p.during.machine, 2)}`.padStart(18)).join('')}`,
  );
  console.log(
    `${'   of which this benchmark (its processes, the browser)'.padEnd(56)}${[r.probing, r.quiet].map((p) => `${f(p.before.own, 2)} / ${f(p.during.own, 2)}`.padStart(18)).join('')}`,
  );
  console.log('');
  console.log(`overview body: ${kB(r.probing.api.bytes)} kB (${kB(r.probing.api.gzip)} kB gzipped), served ${r.probing.api.encoding ?? 'uncompressed'}`);
  console.log(
    `interactive < ${INTERACTIVE_BUDGET_MS} ms: agents probing ${verdict(of(r.probing, 'interactive'))}; agents paused ${verdict(of(r.quiet, 'interactive'))}`,
  );
  console.log(`initial JavaScript: ${kB(r.js.gzip)} kB gzipped, budget ${kB(INITIAL_JS_BUDGET)} kB: ${r.js.gzip <= INITIAL_JS_BUDGET ? 'met' : 'NOT met'}`);
  console.log(`overview health after each load, agents probing: ${r.probing.healthAfter.join(' | ')}`);
  console.log(`overview health after each load, agents paused: ${r.quiet.healthAfter.join(' | ')}`);
  if (r.extraScripts.length) console.log(`scripts loaded beyond index.html's: ${r.extraScripts.join(', ')}`);
  if (r.pageErrors) console.log(`page errors: ${r.pageErrors} (see above)`);
}

function render(r: Result): string {
  const cell = (xs: number[], bold = false) => {
    const m = `${f(percentile(xs, 50))} / ${f(max(xs))}`;
    return bold ? `**${m}**` : m;
  };
  const counts = (p: Phase) => healthCounts(p.counts);
  const apiCell = (p: Phase) => `${f(percentile(p.api.ms, 50), 1)} / ${f(percentile(p.api.ms, 95), 1)} / ${f(max(p.api.ms), 1)}`;
  const pageRows = PAGE_ROWS.map(([label, key]) => {
    const bold = key === 'interactive';
    return `| ${label} | ${cell(of(r.probing, key), bold)} | ${cell(of(r.quiet, key), bold)} |`;
  }).join('\n');
  return `## Console (\`npm run bench:console\`)

Run ${r.at} on ${r.machine}; Chromium ${r.chromium} (Debian, headless); ${f(r.seconds)} s in all.

**Method.** As in \`bench:detect\`: ${f(CLUSTERS)} clusters of 3 nodes (the node farm, \`scripts/bench/node-farm.ts\`) are created
through the REST API on a fresh PostgreSQL and probed every ${PROBE_INTERVAL_MS} ms by three probe agents reporting to one controller,
each a process of its own; the controller serves the console, built by Vite for the run. Once every node is up, the page is
measured twice: with the agents probing, everything on this machine, then with the agents and the node farm stopped (SIGSTOP),
which leaves the cores to the browser. Cores busy are the machine's (\`/proc/stat\`) and, in parentheses, this benchmark's own
processes, the browser included; the rest is other load on the machine, which is shared (each series starts once that is below
0.25 cores, or after ${QUIET_WAIT_S} s).

- _Initial JavaScript_: every \`<script src>\` and \`modulepreload\` of the built \`index.html\` (${r.js.files.map((x) => `\`${x.file}\``).join(', ')}),
  gzipped with zlib level 9. ${r.extraScripts.length ? `The overview also loaded ${r.extraScripts.map((x) => `\`${x}\``).join(', ')}.` : 'The overview loaded no other script.'}
- _API_: ${API_CALLS} sequential \`GET /api/v1/overview\` from the benchmark process (Node's fetch, keep-alive), time to the last byte
  of the body.
- _Page_: ${LOADS} cold loads of \`/#/\` per series, each in a new browser context (empty cache and storage; 1280 × 900) with the admin
  token put in session storage before navigation, under the console's real Content-Security-Policy. Times are taken in the page
  from navigation start (\`performance.now()\`): the table holding all ${f(CLUSTERS)} rows (a MutationObserver, before paint) and the frame
  after (painted); resource timing for the scripts and API calls. Then the name of one cluster (\`${r.search}\`) is entered in the
  search box at once (one \`input\` event, as a paste) and timed to the table showing only that row, then the box is cleared
  (select all, Backspace) and timed to all rows again. _Interactive_ is the time to all rows painted plus the search's time to its
  row painted (the harness's own delay between the two is left out).

| Measure | Agents probing | Agents paused | Budget |
| --- | --- | --- | --- |
| Initial JavaScript, gzipped | **${kB(r.js.gzip)} kB** (${kB(r.js.bytes)} kB before gzip, ${r.js.files.length} file${r.js.files.length === 1 ? '' : 's'}) | | ≤ ${kB(INITIAL_JS_BUDGET)} kB: ${r.js.gzip <= INITIAL_JS_BUDGET ? 'met' : '**not met**'} |
| \`GET /api/v1/overview\` p50 / p95 / max (ms) | ${apiCell(r.probing)} | ${apiCell(r.quiet)} | |
| \`GET /api/v1/overview\` body, served ${r.probing.api.encoding ? `with \`${r.probing.api.encoding}\`` : 'uncompressed'} (gzipped) | ${kB(r.probing.api.bytes)} kB (${kB(r.probing.api.gzip)} kB) | ${kB(r.quiet.api.bytes)} kB (${kB(r.quiet.api.gzip)} kB) | |
| Cores busy before the page loads (3 s) | ${f(r.probing.before.machine, 2)} (${f(r.probing.before.own, 2)}) | ${f(r.quiet.before.machine, 2)} (${f(r.quiet.before.own, 2)}) | |
| Cores busy during the page loads | ${f(r.probing.during.machine, 2)} (${f(r.probing.during.own, 2)}) | ${f(r.quiet.during.machine, 2)} (${f(r.quiet.during.own, 2)}) | |

| Page, ${LOADS} cold loads each, ms: median / max | Agents probing | Agents paused |
| --- | --- | --- |
${pageRows}

Overview health before the loads; after each load. Agents probing: ${counts(r.probing)}; ${runLengths(r.probing.healthAfter)}.
Agents paused: ${counts(r.quiet)}; ${runLengths(r.quiet.healthAfter)} (without reports the agents' votes lapse).${
    r.probing.healthAfter.some((h) => h !== counts(r.probing))
      ? ` With the agents probing, the labels changed while the browser shared the cores${labelNotes(r)}.`
      : ''
  }

Interactive < ${f(INTERACTIVE_BUDGET_MS)} ms: ${verdict(of(r.probing, 'interactive'))} with the agents probing, ${verdict(of(r.quiet, 'interactive'))} with them paused.
`;
}

/** Rewrites this benchmark's section; a first run places it before the fault-injection section. */
function writeSection(body: string, file = 'BENCHMARKS.md'): void {
  const text = readFileSync(file, 'utf8');
  const start = `<!-- ${SECTION}:start -->`;
  if (!text.includes(start)) {
    const anchor = ['<!-- chaos:start -->', '## Fault injection'].map((a) => text.indexOf(a)).find((i) => i >= 0);
    if (anchor !== undefined) writeFileSync(file, `${text.slice(0, anchor)}${start}\n<!-- ${SECTION}:end -->\n\n${text.slice(anchor)}`);
  }
  writeBenchmarkSection(SECTION, body, file);
}

/** Prettier's formatting of the whole file, as `npm run lint` checks it. */
async function formatMarkdown(file: string): Promise<void> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(readFileSync(file, 'utf8'), { ...options, filepath: file }));
}

main()
  .catch((err: unknown) => {
    // After a signal, the steps still running fail as their processes go: nothing to report.
    if (!cleaning) console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    process.exit();
  });
