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
 *
 * This file sets the machine up, runs the two series and stops everything on every exit path; the parts
 * are in scripts/bench/: console-build (1), console-api (2), console-page (3), console-series (one
 * series: quiet machine, then 2 and 3), console-report (the terminal table and the BENCHMARKS.md section).
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { createDatabase, freePort, type ManagedProcess, type PostgresServer, startPostgres, startProcess, waitFor } from '../libs/testing/src/index.js';
import { api, BENCH_ADMIN_TOKEN, startBenchAgents } from './bench/admin-api.js';
import { type Overview } from './bench/console-api.js';
import { buildConsole, initialJs } from './bench/console-build.js';
import { kB } from './bench/console-format.js';
import { uniqueSearch } from './bench/console-page.js';
import { formatMarkdown, print, render, type Result, writeSection } from './bench/console-report.js';
import { measurePhase } from './bench/console-series.js';
import { CHROMIUM, CLUSTERS, DOWN_AFTER_MS, INITIAL_JS_BUDGET, LOADS, PROBE_INTERVAL_MS } from './bench/console-settings.js';
import { metric } from './bench/metrics.js';
import { nextMessage, startNodeChild } from './bench/processes.js';

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

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`bench:console: ${CLUSTERS} clusters × 3 nodes, 3 agents (probe interval ${PROBE_INTERVAL_MS} ms), ${LOADS} cold loads`);

  let consoleDir = process.env['BENCH_CONSOLE_DIR'];
  if (consoleDir) consoleDir = resolve(consoleDir);
  else {
    const t = Date.now();
    consoleDir = await buildConsole((step) => cleanups.push(step));
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
