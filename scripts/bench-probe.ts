/**
 * `npm run bench:probe`: what watching Redis nodes costs, Vigil against Redis Sentinel in the same run.
 *
 * 1. N real redis-servers (standalone masters), watched at the same time by one Vigil probe agent (with its
 *    controller) and by one Redis Sentinel monitoring all of them: CPU and RSS of each watcher, and the
 *    load they put on the nodes (windows with nothing, the agent alone, then both).
 * 2. The agent alone at larger scale on the node farm (1,000 and 6,000 nodes by default): how its cost grows.
 *
 * Options: --nodes N (1000), --seconds S (60, the compared window), --warmup S (15), --idle-seconds S (10),
 * --agent-seconds S (20, the agent-only window), --interval MS (1000, PROBE_INTERVAL_MS), --down-after MS (5000),
 * --farm-nodes 1000,6000 (`none` skips), --farm-seconds S (30), --no-real (farm only), --profile DIR (V8 CPU
 * profiles of the agents there), --out FILE (BENCHMARKS.md, section `bench:probe`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PostgresServer, startPostgres, waitFor } from '../libs/testing/src/index.js';
import { metric } from './bench/metrics.js';
import { cpuSeconds, nextMessage, startNodeChild } from './bench/processes.js';
import { type FarmRow, printResult, type ProbeResult, type RealRun, renderResult } from './bench/probe-report.js';
import { agentCensus, reportedProbes, startVigil, transitions, type VigilUnderTest } from './bench/probe-vigil.js';
import { measureWindow, type Subject, type WindowResult } from './bench/probe-window.js';
import { portPicker, type RedisFleet, rssMiB, startRedisFleet } from './bench/redis-fleet.js';
import { writeBenchmarkSection } from './bench/report.js';
import { startWatchingSentinel } from './bench/sentinel-watcher.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const num = (name: string, fallback: number) => {
  const v = Number(option(name) ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
  return v;
};
const NODES = num('nodes', 1000);
const SECONDS = num('seconds', 60);
const WARMUP_S = num('warmup', 15);
const IDLE_S = num('idle-seconds', 10);
const AGENT_S = num('agent-seconds', 20);
const INTERVAL_MS = num('interval', 1000);
const DOWN_AFTER_MS = num('down-after', 5000);
const FARM_SECONDS = num('farm-seconds', 30);
const FARM_NODES = (option('farm-nodes') ?? '1000,6000')
  .split(',')
  .filter((s) => s !== 'none' && s !== '')
  .map(Number);
const REAL = !args.includes('--no-real');
const PROFILE_DIR = option('profile');
const AGENT_NODE_ARGS = PROFILE_DIR
  ? ['--import', resolve('dist/scripts/bench/exit-on-sigterm.js'), '--cpu-prof', `--cpu-prof-dir=${resolve(PROFILE_DIR)}`]
  : [];
const OUT = option('out') ?? 'BENCHMARKS.md';

/** Cleanup steps, newest first; each runs once, on success, error, or Ctrl-C. */
const cleanups: (() => Promise<unknown>)[] = [];
function track(step: () => Promise<unknown>): () => Promise<void> {
  cleanups.push(step);
  return async () => {
    const i = cleanups.indexOf(step);
    if (i >= 0) cleanups.splice(i, 1);
    await step();
  };
}
async function cleanup(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) await Promise.race([step().catch(() => undefined), sleep(20_000)]);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`${signal}: stopping every process of the benchmark`);
    void cleanup().finally(() => process.exit(130));
  });
}

const pidSubject = (pid: number): Subject => ({ cpu: () => cpuSeconds(pid), rssMiB: () => rssMiB(pid) });

/** Raises this process's open-file limit to its hard limit (children inherit it) and checks it is enough. */
function checkLimits(): void {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(limits);
  let soft = m?.[1] === 'unlimited' ? Infinity : Number(m?.[1]);
  const hard = m?.[2] === 'unlimited' ? Infinity : Number(m?.[2]);
  if (soft < hard) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard === Infinity ? 'unlimited' : hard}`]);
      soft = hard;
    } catch {
      // prlimit missing: go with the soft limit
    }
  }
  // Sentinel holds two connections per master; the farm a listener and a connection per node; this process a pipe pair per server.
  const need = Math.max(REAL ? 3 * NODES + 500 : 0, 2 * Math.max(0, ...FARM_NODES) + 500);
  console.log(`open files: ${soft} per process (need about ${need})`);
  if (soft < need) throw new Error(`open-file limit ${soft} is below the ${need} this run needs: raise it (ulimit -n) or lower --nodes`);
  const avail = Number(/MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 ** 2;
  console.log(`memory available: ${avail.toFixed(1)} GiB (an idle redis-server --hz 1 holds a few MiB)`);
  if (REAL && avail < (NODES * 8) / 1024 + 2) throw new Error(`${avail.toFixed(1)} GiB available is too little for ${NODES} redis-servers`);
}

async function agentLagMs(v: VigilUnderTest): Promise<number> {
  return ((await metric(v.base, 'vigil_agent_probe_lag_seconds', { agent: v.agentName })) ?? NaN) * 1000;
}

/** Runs a window and counts the node states the agent reported meanwhile (per second: N at full rate). */
async function withProbeRate(v: VigilUnderTest, window: () => Promise<WindowResult>): Promise<[WindowResult, number]> {
  const p0 = await reportedProbes(v);
  const w = await window();
  return [w, ((await reportedProbes(v)) - p0) / w.seconds];
}

async function realRun(adminUrl: string): Promise<RealRun> {
  const t0 = Date.now();
  const fleet: RedisFleet = await startRedisFleet(NODES, 50, (n) => {
    if (n % 250 === 0 || n === NODES) console.log(`  ${n} redis-servers up`);
  });
  const stopFleet = track(() => fleet.stop());
  const startS = (Date.now() - t0) / 1000;
  console.log(`${NODES} redis-servers ready in ${startS.toFixed(1)} s; ${fleet.pssMiB().toFixed(0)} MiB PSS in all`);
  // Their memory is read once per window, at its end: smaps of a thousand processes is not free.
  const nodes: Subject = { cpu: () => fleet.cpuSeconds() };
  const withNodesMemory = (w: WindowResult) => ({ ...w, rssMiB: { ...w.rssMiB, nodes: fleet.pssMiB() } });

  const idle = withNodesMemory(await measureWindow(IDLE_S, { nodes }));
  console.log(`idle redis-servers: ${idle.cores['nodes']!.toFixed(3)} cores`);

  const vigil = await startVigil({
    adminUrl,
    groups: fleet.ports.map((p) => [p]),
    intervalMs: INTERVAL_MS,
    downAfterMs: DOWN_AFTER_MS,
    agentNodeArgs: AGENT_NODE_ARGS,
  });
  const stopVigil = track(() => vigil.stop());
  const agentSubjects = { agent: pidSubject(vigil.agent.child.pid!), controller: pidSubject(vigil.controller.child.pid!), nodes };
  await sleep(WARMUP_S * 1000);
  const agentBefore = await agentCensus(vigil);
  if (agentBefore.ok !== NODES) throw new Error(`agent sees ${agentBefore.ok} of ${NODES} nodes ok: ${agentBefore.notOk.join('; ')}`);
  const [agentOnlyRaw, agentOnlyRate] = await withProbeRate(vigil, () => measureWindow(AGENT_S, agentSubjects));
  const agentOnly = withNodesMemory(agentOnlyRaw);
  console.log(`agent alone: ${agentOnly.cores['agent']!.toFixed(3)} cores; redis-servers ${agentOnly.cores['nodes']!.toFixed(3)}`);

  const sentinel = await startWatchingSentinel(
    fleet.ports.map((port, i) => ({ name: `m${i}`, port })),
    { port: await portPicker()(), downAfterMs: DOWN_AFTER_MS },
  );
  const stopSentinel = track(() => sentinel.stop());
  const t1 = Date.now();
  await waitFor(
    async () => {
      if (sentinel.proc.child.exitCode !== null) throw new Error(`sentinel exited: ${sentinel.proc.output().slice(-2000)}`);
      return (await sentinel.census()).ok === NODES;
    },
    60_000,
    `Sentinel to see all ${NODES} masters up`,
    500,
  );
  console.log(`Sentinel sees all ${NODES} masters up (${((Date.now() - t1) / 1000).toFixed(1)} s after its start); warming up ${WARMUP_S} s`);
  await sleep(WARMUP_S * 1000);
  const [agentOk0, sentinel0] = [await agentCensus(vigil), await sentinel.census()];
  if (agentOk0.ok !== NODES || sentinel0.ok !== NODES) {
    throw new Error(
      `before the window: agent ok ${agentOk0.ok}, Sentinel ok ${sentinel0.ok} of ${NODES}: ${[...agentOk0.notOk, ...sentinel0.notOk].join('; ')}`,
    );
  }
  const sdowns = await sentinel.countSdowns();
  const tr0 = await transitions(vigil.base);
  console.log(`measuring ${SECONDS} s with both watching`);
  const [bothRaw, bothRate] = await withProbeRate(vigil, () => measureWindow(SECONDS, { ...agentSubjects, sentinel: pidSubject(sentinel.proc.child.pid!) }));
  const both = withNodesMemory(bothRaw);
  const vigilTransitions = (await transitions(vigil.base)) - tr0;
  const sentinelSdowns = sdowns.count();
  sdowns.stop();
  const lag = await agentLagMs(vigil);
  const [agentOk1, sentinel1] = [await agentCensus(vigil), await sentinel.census()];
  await stopSentinel();
  await stopVigil();
  await stopFleet();
  return {
    nodes: NODES,
    startS,
    idle,
    agentOnly,
    both,
    agentOk: [agentOk0.ok, agentOk1.ok],
    sentinelOk: [sentinel0.ok, sentinel1.ok],
    vigilTransitions,
    sentinelSdowns,
    agentLagMs: lag,
    agentProbesPerS: [agentOnlyRate, bothRate],
  };
}

async function farmRun(adminUrl: string, size: number): Promise<FarmRow> {
  const groups = Math.ceil(size / 3);
  const farm = startNodeChild('dist/scripts/bench/node-farm-process.js', [String(groups), '2']);
  const stopFarm = track(() => farm.stop('SIGTERM', 2000));
  const ports = (await nextMessage<{ groups: number[][] }>(farm, 'ready')).groups;
  const vigil = await startVigil({ adminUrl, groups: ports, intervalMs: INTERVAL_MS, downAfterMs: DOWN_AFTER_MS, agentNodeArgs: AGENT_NODE_ARGS });
  const stopVigil = track(() => vigil.stop());
  await sleep(WARMUP_S * 1000);
  const up = await metric(vigil.base, 'vigil_detection_nodes', { state: 'up' });
  if (up !== vigil.nodes) throw new Error(`after warm-up ${up} of ${vigil.nodes} farm nodes are up`);
  const [window, probesPerS] = await withProbeRate(vigil, () =>
    measureWindow(FARM_SECONDS, {
      agent: pidSubject(vigil.agent.child.pid!),
      controller: pidSubject(vigil.controller.child.pid!),
      farm: pidSubject(farm.child.pid!),
    }),
  );
  const row: FarmRow = { nodes: vigil.nodes, clusters: groups, window, agentLagMs: await agentLagMs(vigil), probesPerS };
  await stopVigil();
  await stopFarm();
  return row;
}

async function main(): Promise<void> {
  console.log(
    `bench:probe: ${REAL ? `${NODES} redis-servers, ` : ''}farm ${FARM_NODES.join(', ') || 'none'}; interval ${INTERVAL_MS} ms, down-after ${DOWN_AFTER_MS} ms; report → ${OUT}`,
  );
  checkLimits();
  const pg: PostgresServer = await startPostgres();
  track(() => pg.stop());
  const result: ProbeResult = {
    at: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Redis ${/v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?'}`,
    intervalMs: INTERVAL_MS,
    downAfterMs: DOWN_AFTER_MS,
    warmupS: WARMUP_S,
    farm: [],
  };
  if (REAL) result.real = await realRun(pg.adminUrl);
  for (const size of FARM_NODES) {
    console.log(`node farm: ${size} nodes`);
    result.farm.push(await farmRun(pg.adminUrl, size));
  }
  printResult(result);
  writeBenchmarkSection('bench:probe', renderResult(result), OUT);
  console.log(`\n${OUT} updated (section bench:probe)`);
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  })
  .finally(() => cleanup());
