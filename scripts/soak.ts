/**
 * `npm run soak -- --minutes 60 --fault-every 180`: the whole system for an hour under steady load with
 * a fault every few minutes, watching for leaks. A fresh PostgreSQL, two controllers, three agents,
 * 1,000 farm clusters and two real redis-server groups (scripts/soak/stack.ts); faults in rotation
 * (scripts/soak/faults.ts), each judged from the event log before the next (outcome.ts); RSS, open
 * descriptors, PostgreSQL connections and table growth sampled every 10 s (sampler.ts) into
 * `<results>/samples.csv`; the summary (analysis.ts), the plot (plot.ts → docs/soak.svg) and the
 * BENCHMARKS.md section (report.ts, section `soak`; written for runs of 30 minutes or more, or with --report).
 *
 * Flags: --minutes (60), --fault-every seconds (180), --clusters (1000), --real-groups (2),
 * --sample-every seconds (10), --results dir (dist/soak-results/<time>), --report.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { api } from './bench/admin-api.js';
import { writeBenchmarkSection } from './bench/report.js';
import { summarize } from './soak/analysis.js';
import { eventCounts, eventTypeCounts, lastEventId } from './soak/events.js';
import { type Fault, type FaultContext, injectFault, ROTATION } from './soak/faults.js';
import { parseSoakOptions } from './soak/options.js';
import { judgeFault, type Outcome } from './soak/outcome.js';
import { type Panel, renderPlot } from './soak/plot.js';
import { renderSection, type SoakResult } from './soak/report.js';
import { Sampler } from './soak/sampler.js';
import { runCleanups, type SoakStack, startStack } from './soak/stack.js';

const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);

let stack: SoakStack | undefined;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping everything the soak started…`);
    void runCleanups(stack?.cleanups ?? []).finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const o = parseSoakOptions(process.argv.slice(2));
  mkdirSync(o.resultsDir, { recursive: true });
  log(`soak: ${o.minutes} min, a fault every ${o.faultEverySeconds} s, ${o.clusters} farm clusters + ${o.realGroups} real groups; results in ${o.resultsDir}`);
  stack = await startStack(o, log);
  const s = stack;
  const settings = await api<{ quorum: number; downAfterMs: number; autoFailover: boolean }>(s.bases[0]!, 'GET', `/api/v1/clusters/${[...s.real.keys()][0]}`);
  const clusterSettings = `quorum ${settings.quorum}, down-after ${settings.downAfterMs} ms, automatic failover ${settings.autoFailover ? 'on' : 'off'}`;

  const t0 = Date.now();
  const startCursor = await lastEventId(s.db);
  const slots = [...s.controllers, ...s.agents];
  const sampler = new Sampler(s.db, slots, s.webhookDeliveries, join(o.resultsDir, 'samples.csv'), t0);
  sampler.start(o.sampleEverySeconds);

  // A process that exits on its own is recorded (Slot.unexpectedExits) and started again.
  const watchdog = setInterval(() => {
    for (const slot of slots)
      if (slot.crashed) {
        log(`${slot.name} exited unexpectedly: starting it again`);
        slot.start();
      }
  }, 2000);

  const endAt = t0 + o.minutes * 60_000;
  const ctx: FaultContext = { stack: s, t0, turns: new Map(), log };
  const judged: { fault: Fault; outcome: Outcome }[] = [];
  let pending: Fault | undefined;
  const judge = async () => {
    if (!pending) return;
    const outcome = await judgeFault(s, pending, await lastEventId(s.db));
    judged.push({ fault: pending, outcome });
    log(`fault ${pending.n} (${pending.kind}) judged: ${outcome.ok ? 'as expected' : outcome.problems.join('; ')}`);
    pending = undefined;
  };
  for (let n = 1; ; n++) {
    const at = t0 + n * o.faultEverySeconds * 1000;
    // The last fault still gets a whole window before the end.
    if (at + o.faultEverySeconds * 1000 > endAt + 1000) break;
    await sleep(Math.max(0, at - Date.now() - 2000));
    await judge();
    await sleep(Math.max(0, at - Date.now()));
    pending = await injectFault(ctx, n, ROTATION[(n - 1) % ROTATION.length]!);
  }
  await sleep(Math.max(0, endAt - Date.now() - 2000));
  await judge();
  await sleep(Math.max(0, endAt - Date.now()));
  clearInterval(watchdog);
  await sampler.stop();
  await sampler.sample();
  const measuredS = (Date.now() - t0) / 1000;

  const whole = await eventCounts(s.db, startCursor, ['failover.started', 'node.odown']);
  let farmFailovers = 0;
  let farmOdowns = 0;
  for (const [cluster, byType] of whole) {
    if (!cluster.startsWith('farm-')) continue;
    farmFailovers += byType.get('failover.started') ?? 0;
    farmOdowns += byType.get('node.odown') ?? 0;
  }
  const warmupS = Math.min(600, measuredS / 4);
  const restartWarmupS = 120;
  const processKeys = slots.flatMap((x) => [`${x.name}.rss_mib`, `${x.name}.fds`]);
  const otherKeys = ['pg.conn.total', 'pg.conn.controller', 'pg.conn.jobs', 'pg.conn.listen', 'pg.conn.other', 'events.rows', 'events.mib'];
  otherKeys.push('webhook_deliveries.rows', 'webhook_deliveries.mib', 'bullmq.mib', 'database.mib');
  const summaries = [
    ...processKeys.map((k) => summarize(sampler.samples, k, warmupS, restartWarmupS, k.replace(/\.(rss_mib|fds)$/, '.incarnation'))),
    ...otherKeys.map((k) => summarize(sampler.samples, k, warmupS, restartWarmupS)),
  ];
  const result: SoakResult = {
    at: new Date(t0).toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    commit: process.env['SOAK_COMMIT'] ?? gitCommit(),
    options: o,
    measuredS,
    warmupS,
    restartWarmupS,
    clusterSettings,
    summaries,
    faults: judged,
    farmFailovers,
    farmOdowns,
    eventsByType: await eventTypeCounts(s.db, startCursor),
    unexpectedExits: slots.flatMap((x) =>
      x.unexpectedExits.map((e) => `${x.name} at ${((e.at - t0) / 60_000).toFixed(1)} min (${e.signal ?? `code ${e.code}`})`),
    ),
    webhooksReceived: s.webhookDeliveries(),
    load: { busyCores: mean(sampler.samples, 'machine.busy_cores'), load1: mean(sampler.samples, 'machine.load1'), cores: os.cpus().length },
  };
  const section = renderSection(result);
  writeFileSync(join(o.resultsDir, 'section.md'), section);
  writeFileSync(join(o.resultsDir, 'result.json'), JSON.stringify({ ...result, samples: sampler.samples }, null, 1));
  const svg = renderPlot(
    sampler.samples,
    plotPanels(s),
    judged.map((j) => ({ at: j.fault.at, n: j.fault.n })),
    `Soak, ${o.clusters} clusters, ${new Date(t0).toISOString().slice(0, 16)}Z`,
  );
  writeFileSync(join(o.resultsDir, 'soak.svg'), svg);
  console.log(`\n${section}`);
  if (o.writeReport) {
    writeFileSync('docs/soak.svg', svg);
    writeBenchmarkSection('soak', section);
    log('BENCHMARKS.md (section soak) and docs/soak.svg written');
  } else log(`short run: BENCHMARKS.md left alone (section and plot in ${o.resultsDir}; --report writes them)`);
}

function mean(samples: { values: Record<string, number> }[], key: string): number {
  const v = samples.map((x) => x.values[key] ?? NaN).filter(Number.isFinite);
  return v.reduce((a, b) => a + b, 0) / v.length;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function plotPanels(s: SoakStack): Panel[] {
  const procs = [...s.controllers, ...s.agents].map((x) => x.name);
  return [
    { title: 'RSS (MiB)', series: procs.map((p) => ({ key: `${p}.rss_mib`, label: p })) },
    { title: 'Open file descriptors', series: procs.map((p) => ({ key: `${p}.fds`, label: p })) },
    {
      title: 'PostgreSQL connections',
      series: [
        { key: 'pg.conn.total', label: 'all' },
        { key: 'pg.conn.controller', label: 'TypeORM pools' },
        { key: 'pg.conn.jobs', label: 'BullMQ' },
        { key: 'pg.conn.listen', label: 'LISTEN' },
      ],
    },
    {
      title: 'Rows',
      series: [
        { key: 'events.rows', label: 'events' },
        { key: 'webhook_deliveries.rows', label: 'webhook deliveries' },
      ],
    },
    {
      title: 'The shared machine',
      series: [
        { key: 'machine.busy_cores', label: 'busy cores' },
        { key: 'machine.load1', label: 'load average' },
      ],
    },
  ];
}

main()
  .catch((err: unknown) => {
    if (!stopping) console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  })
  .finally(async () => {
    if (!stopping) await runCleanups(stack?.cleanups ?? []);
    process.exit();
  });
