/**
 * `npm run bench:discovery`: how fast clients find the master through Vigil's publishing endpoints, on
 * this machine, against Redis Sentinel where Sentinel has an equivalent, in one run.
 *
 * 1. Sentinel lookups: `redis-benchmark` sending `SENTINEL get-master-addr-by-name` to Vigil's
 *    Sentinel-compatible endpoint and to a real Redis Sentinel monitoring the same master, unpipelined and
 *    pipelined, alternating, BENCH_LOOKUP_RUNS (3) runs each; medians. A bare node:net server answering
 *    every command with a fixed reply is measured alongside, as the reference for what Node's sockets allow.
 * 2. REST lookups: `GET /api/v1/clusters/{name}/master` from a load generator process (node:http,
 *    keep-alive), BENCH_REST_CONNECTIONS (64) connections for BENCH_REST_SECONDS (10) after a warm-up;
 *    also `/health/live` and a bare node:http server, to show what the pipeline and the harness cost.
 * 3. DNS: A queries from a UDP load generator process (BENCH_DNS_WINDOW (64) outstanding) against the
 *    built-in responder, with BENCH_DNS_CLUSTERS (1000) clusters in the zone.
 * 4. End to end: a master crash (SIGKILL) at down-after 1000 ms under an ioredis Sentinel client writing
 *    in a loop, against Vigil (3 agents, quorum 2) and 3 Redis Sentinels (quorum 2); BENCH_TRIALS (5)
 *    each, alternating, a fresh replication group per trial.
 *
 * BENCH_PARTS (lookup,rest,dns,e2e) runs a subset (BENCHMARKS.md is then left alone). BENCH_PROFILE=<dir>
 * writes a V8 CPU profile of the controller serving parts 1-3 there.
 */
import { createSocket } from 'node:dgram';
import os from 'node:os';
import { Redis } from 'ioredis';
import {
  createDatabase,
  freePort,
  type ManagedProcess,
  type PostgresServer,
  type RedisServer,
  redisServerBinary,
  startPostgres,
  startProcess,
  startReplicationGroup,
  waitFor,
} from '../libs/testing/src/index.js';
import { api, BENCH_ADMIN_TOKEN, startBenchAgents } from './bench/admin-api.js';
import type { DnsLoadOptions, DnsLoadResult } from './bench/dns-load.js';
import type { HttpLoadOptions, HttpLoadResult } from './bench/http-load.js';
import { binary, cpuSeconds, machineBusySeconds, nextMessage, runLoadGenerator, startNodeChild } from './bench/processes.js';
import { percentile, writeBenchmarkSection } from './bench/report.js';
import { sentinelClient, type Sentinels, startSentinels } from './bench/sentinels.js';

const ALL_PARTS = ['lookup', 'rest', 'dns', 'e2e'] as const;
type Part = (typeof ALL_PARTS)[number];
const PARTS = new Set((process.env['BENCH_PARTS'] ?? ALL_PARTS.join(',')).split(',') as Part[]);
const LOOKUP_RUNS = Number(process.env['BENCH_LOOKUP_RUNS'] ?? 3);
const LOOKUP_CLIENTS = 50;
const LOOKUP_REQUESTS = { 1: 200_000, 16: 2_000_000 } as const;
const REST_CONNECTIONS = Number(process.env['BENCH_REST_CONNECTIONS'] ?? 64);
const REST_SECONDS = Number(process.env['BENCH_REST_SECONDS'] ?? 10);
const DNS_CLUSTERS = Number(process.env['BENCH_DNS_CLUSTERS'] ?? 1000);
const DNS_NAMES = 500;
const DNS_WINDOW = Number(process.env['BENCH_DNS_WINDOW'] ?? 64);
const DNS_SECONDS = Number(process.env['BENCH_DNS_SECONDS'] ?? 10);
const WARMUP_MS = 3000;
const TRIALS = Number(process.env['BENCH_TRIALS'] ?? 5);
const DOWN_AFTER_MS = 1000;
const SENTINEL_FAILOVER_TIMEOUT_MS = 10_000;
const PROBE_INTERVAL_MS = Number(process.env['PROBE_INTERVAL_MS'] ?? 500);
const PROFILE = process.env['BENCH_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE']}`] : [];
const ZONE = 'redis.bench.';
const LOOKUP_CLUSTER = 'lookup';

const GOALS = { lookupRatio: 1.0, restRps: 20_000, dnsQps: 50_000, e2eRatio: 0.6 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');

type System = 'vigil' | 'sentinel';

interface Controller {
  proc: ManagedProcess;
  base: string;
  sentinelPort: number;
  dnsPort: number;
}

/** Distinct ports that were free a moment ago. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** The controller as a process of its own, with the Sentinel-compatible endpoint and the DNS responder on. */
async function startController(databaseUrl: string, name: string, nodeArgs: string[] = []): Promise<Controller> {
  const [httpPort, sentinelPort, dnsPort] = await freePorts(3);
  const base = `http://127.0.0.1:${httpPort}`;
  const proc = startProcess('node', [...nodeArgs, 'dist/apps/controller/src/main.js'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HTTP_PORT: String(httpPort),
      HTTP_HOST: '127.0.0.1',
      PUBLISH_HOST: '127.0.0.1',
      SENTINEL_PORT: String(sentinelPort),
      DNS_PORT: String(dnsPort),
      DNS_ZONE: ZONE,
      VIGIL_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      VIGIL_SECRET_KEY: 'd'.repeat(64),
      CONTROLLER_NAME: name,
      LOG_LEVEL: 'warn',
      REDIS_ADMIN_TIMEOUT_MS: '500',
    },
  });
  await waitFor(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`controller exited: ${proc.output().slice(-2000)}`);
      return (await fetch(`${base}/health/ready`).catch(() => undefined))?.ok;
    },
    60_000,
    'controller ready',
  );
  await waitFor(async () => (await sentinelCall(sentinelPort, 'PING')) === 'PONG', 10_000, "the controller's Sentinel endpoint");
  return { proc, base, sentinelPort, dnsPort };
}

/** One command on a short-lived connection. */
async function sentinelCall(port: number, ...args: string[]): Promise<unknown> {
  const c = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await c.call(args[0]!, ...args.slice(1));
  } finally {
    c.disconnect();
  }
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

// ---- 1. Sentinel lookups with redis-benchmark ----

/** `node`: the bare node:net reference server (`scripts/bench/resp-baseline-server.ts`). */
type LookupTarget = System | 'node';

interface LookupRun {
  system: LookupTarget;
  pipeline: 1 | 16;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of the server (controller / sentinel / reference) over the run. */
  serverCores: number;
  /** CPU of the whole machine over the run (redis-benchmark included). */
  machineCores: number;
}

async function redisBenchmark(system: LookupTarget, port: number, pid: number, pipeline: 1 | 16): Promise<LookupRun> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-n', String(LOOKUP_REQUESTS[pipeline]), '-c', String(LOOKUP_CLIENTS), '-P', String(pipeline), '--csv'];
  const cpu0 = cpuSeconds(pid);
  const machine0 = machineBusySeconds();
  const t0 = performance.now();
  const proc = startProcess(binary('redis-benchmark', 'REDIS_BENCHMARK_BIN', 'redis-tools'), [...args, 'SENTINEL', 'get-master-addr-by-name', LOOKUP_CLUSTER]);
  const code = await proc.exited;
  const seconds = (performance.now() - t0) / 1000;
  const serverCores = (cpuSeconds(pid) - cpu0) / seconds;
  const machineCores = (machineBusySeconds() - machine0) / seconds;
  const row = proc
    .output()
    .split('\n')
    .find((l) => l.startsWith('"SENTINEL'));
  if (code !== 0 || !row) throw new Error(`redis-benchmark against ${system} failed (${code}): ${proc.output().slice(-1000)}`);
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const cols = row.split('","').map((c) => c.replaceAll('"', ''));
  return { system, pipeline, rps: Number(cols[1]), p50Ms: Number(cols[4]), p99Ms: Number(cols[6]), serverCores, machineCores };
}

async function lookupBench(controller: Controller, sentinel: Sentinels): Promise<LookupRun[]> {
  const answer = (await sentinelCall(controller.sentinelPort, 'SENTINEL', 'get-master-addr-by-name', LOOKUP_CLUSTER)) as [string, string];
  const sentinelAnswer = await sentinelCall(sentinel.ports[0]!, 'SENTINEL', 'get-master-addr-by-name', LOOKUP_CLUSTER);
  if (JSON.stringify(answer) !== JSON.stringify(sentinelAnswer))
    throw new Error(`Vigil answers ${JSON.stringify(answer)}, Sentinel ${JSON.stringify(sentinelAnswer)}`);
  console.log(`lookup: both endpoints answer ${JSON.stringify(answer)}`);
  const reference = startNodeChild('dist/scripts/bench/resp-baseline-server.js', answer);
  try {
    const { port: referencePort } = await nextMessage<{ port: number }>(reference, 'ready');
    const targets = {
      vigil: { port: controller.sentinelPort, pid: controller.proc.child.pid! },
      sentinel: { port: sentinel.ports[0]!, pid: sentinel.procs[0]!.child.pid! },
      node: { port: referencePort, pid: reference.child.pid! },
    };
    const runs: LookupRun[] = [];
    for (let r = 0; r < LOOKUP_RUNS; r++) {
      for (const pipeline of [1, 16] as const) {
        const order: LookupTarget[] = r % 2 === 0 ? ['vigil', 'sentinel', 'node'] : ['sentinel', 'vigil', 'node'];
        for (const system of order) {
          const run = await redisBenchmark(system, targets[system].port, targets[system].pid, pipeline);
          runs.push(run);
          console.log(
            `lookup ${system.padEnd(8)} -P ${String(pipeline).padEnd(2)}: ${f(run.rps)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, server ${run.serverCores.toFixed(2)} cores, machine ${run.machineCores.toFixed(2)} cores`,
          );
        }
      }
    }
    return runs;
  } finally {
    await reference.stop('SIGTERM', 2000);
  }
}

// ---- 2. REST lookups ----

/** CPU of `pid` and of the whole machine over a load generator's measured window (after its warm-up). */
async function measureWindow(pid: number, seconds = REST_SECONDS): Promise<{ serverCores: number; machineCores: number }> {
  await sleep(WARMUP_MS);
  const cpu0 = cpuSeconds(pid);
  const machine0 = machineBusySeconds();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  return { serverCores: (cpuSeconds(pid) - cpu0) / elapsed, machineCores: (machineBusySeconds() - machine0) / elapsed };
}

interface RestRun {
  target: 'baseline' | 'live' | 'master';
  rps: number;
  p50Ms: number;
  p99Ms: number;
  serverCores: number;
  generatorCores: number;
  machineCores: number;
  non200: number;
  errors: number;
}

async function httpLoad(target: RestRun['target'], url: string, headers: Record<string, string>, serverPid: number): Promise<RestRun> {
  const options: HttpLoadOptions = { url, headers, connections: REST_CONNECTIONS, warmupMs: WARMUP_MS, durationMs: REST_SECONDS * 1000 };
  const window = measureWindow(serverPid);
  const result = await runLoadGenerator<HttpLoadResult>('dist/scripts/bench/http-load.js', options);
  const { serverCores, machineCores } = await window;
  if (result.requests === 0) throw new Error(`no answers from ${url}: ${result.lastError}`);
  const run: RestRun = {
    target,
    rps: result.requests / result.seconds,
    p50Ms: percentile(result.latenciesMs, 50),
    p99Ms: percentile(result.latenciesMs, 99),
    serverCores,
    generatorCores: result.cpuCores,
    machineCores,
    non200: result.non200,
    errors: result.errors,
  };
  console.log(
    `rest ${target.padEnd(8)}: ${f(run.rps)} req/s, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms; server ${serverCores.toFixed(2)} cores, generator ${run.generatorCores.toFixed(2)} cores, machine ${machineCores.toFixed(2)} cores; non-200 ${run.non200}, errors ${run.errors}`,
  );
  return run;
}

async function restBench(controller: Controller): Promise<RestRun[]> {
  const viewer = (await api<{ token: string }>(controller.base, 'POST', '/api/v1/tokens', { name: 'bench-viewer', role: 'viewer' })).token;
  const runs: RestRun[] = [];
  const baseline = startNodeChild('dist/scripts/bench/http-baseline-server.js', []);
  try {
    const { port } = await nextMessage<{ port: number }>(baseline, 'ready');
    runs.push(await httpLoad('baseline', `http://127.0.0.1:${port}/api/v1/clusters/${LOOKUP_CLUSTER}/master`, {}, baseline.child.pid!));
  } finally {
    await baseline.stop('SIGTERM', 2000);
  }
  const pid = controller.proc.child.pid!;
  runs.push(await httpLoad('live', `${controller.base}/health/live`, {}, pid));
  runs.push(await httpLoad('master', `${controller.base}/api/v1/clusters/${LOOKUP_CLUSTER}/master`, { authorization: `Bearer ${viewer}` }, pid));
  return runs;
}

// ---- 3. DNS ----

interface DnsRun {
  qps: number;
  p50Ms: number;
  p99Ms: number;
  bad: number;
  lost: number;
  serverCores: number;
  generatorCores: number;
  machineCores: number;
  names: number;
}

async function dnsBench(controller: Controller, clusterNames: string[]): Promise<DnsRun> {
  const names = [...clusterNames]
    .sort(() => Math.random() - 0.5)
    .slice(0, DNS_NAMES)
    .map((n) => `${n}.${ZONE.slice(0, -1)}`);
  const options: DnsLoadOptions = {
    host: '127.0.0.1',
    port: controller.dnsPort,
    names,
    window: DNS_WINDOW,
    warmupMs: WARMUP_MS,
    durationMs: DNS_SECONDS * 1000,
    timeoutMs: 1000,
  };
  const window = measureWindow(controller.proc.child.pid!, DNS_SECONDS);
  const result = await runLoadGenerator<DnsLoadResult>('dist/scripts/bench/dns-load.js', options);
  const { serverCores, machineCores } = await window;
  const run: DnsRun = {
    qps: result.replies / result.seconds,
    p50Ms: percentile(result.latenciesMs, 50),
    p99Ms: percentile(result.latenciesMs, 99),
    bad: result.bad,
    lost: result.lost,
    serverCores,
    generatorCores: result.cpuCores,
    machineCores,
    names: names.length,
  };
  console.log(
    `dns: ${f(run.qps)} queries/s, p50 ${run.p50Ms.toFixed(3)} ms, p99 ${run.p99Ms.toFixed(3)} ms; server ${run.serverCores.toFixed(2)} cores, generator ${run.generatorCores.toFixed(2)} cores, machine ${run.machineCores.toFixed(2)} cores; bad ${run.bad}, lost ${run.lost}`,
  );
  return run;
}

// ---- 4. End to end ----

interface E2eTrial {
  system: System;
  /** Kill → the first `+switch-master` received from the endpoints the client uses. */
  announcedMs: number;
  /** Kill → the client's first acknowledged INCR on the new master. */
  firstWriteMs: number;
  /** Times the ioredis client gave up and was connected again. */
  restarts: number;
}

/** INCRs in a loop with a 1 ms pause; remembers the first success after the fault on another server than the old master. */
class IncrLoop {
  first: { at: number; port: number } | undefined;
  lastError = '';
  /** Times the client had given up and was connected again. */
  restarts = 0;
  private faultAt: number | undefined;
  private oldPort = 0;
  private stopped = false;
  private done: Promise<void> | undefined;

  constructor(private readonly client: Redis) {}

  start(): void {
    this.done = (async () => {
      while (!this.stopped) {
        try {
          await this.client.incr('bench:discovery');
          const at = Date.now();
          const port = (this.client.stream as { remotePort?: number } | undefined)?.remotePort;
          if (this.faultAt !== undefined && this.first === undefined && at >= this.faultAt && port !== undefined && port !== this.oldPort) {
            this.first = { at, port };
          }
        } catch (err) {
          this.lastError = (err as Error).message;
          // ioredis gives up (status `end`) when a `+switch-master` disconnects it in the middle of asking the
          // sentinels; an application then connects it again.
          if (this.client.status === 'end') {
            this.restarts++;
            this.client.connect().catch(() => undefined);
          }
        }
        await sleep(1);
      }
    })();
  }

  fault(at: number, oldPort: number): void {
    this.oldPort = oldPort;
    this.faultAt = at;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** One crash under a Sentinel client: `endpoints` are the sentinels (Vigil's endpoint, or real ones) knowing `name`. */
async function crashTrial(system: System, group: RedisServer[], endpoints: number[], name: string): Promise<E2eTrial> {
  const master = group[0]!;
  const subs = endpoints.map((port) => new Redis({ port, lazyConnect: true }));
  for (const sub of subs) sub.on('error', () => undefined);
  const client = sentinelClient(
    endpoints.map((port) => ({ host: '127.0.0.1', port })),
    name,
  );
  const loop = new IncrLoop(client);
  try {
    let announcedAt: number | undefined;
    for (const sub of subs) {
      await sub.connect();
      await sub.subscribe('+switch-master');
      sub.on('message', (_channel: string, message: string) => {
        if (message.split(' ')[0] === name) announcedAt ??= Date.now();
      });
    }
    await waitFor(async () => client.status === 'ready', 10_000, `the ${system} Sentinel client to connect`);
    loop.start();
    await sleep(1000);
    const at = Date.now();
    master.signal('SIGKILL');
    loop.fault(at, master.port);
    await waitFor(async () => loop.first !== undefined, 60_000, `${system}: the client writing on the new master`, 5).catch((err: Error) => {
      throw new Error(`${err.message} (last error: ${loop.lastError}; client ${client.status})`);
    });
    await waitFor(async () => announcedAt !== undefined, 10_000, `${system}: +switch-master`, 5).catch(() => undefined);
    const [host, port] = (await sentinelCall(endpoints[0]!, 'SENTINEL', 'get-master-addr-by-name', name)) as [string, string];
    if (Number(port) !== loop.first!.port) throw new Error(`${system}: the client wrote to ${loop.first!.port}, the master is now ${host}:${port}`);
    return { system, announcedMs: announcedAt !== undefined ? announcedAt - at : NaN, firstWriteMs: loop.first!.at - at, restarts: loop.restarts };
  } finally {
    await loop.stop();
    client.disconnect();
    for (const sub of subs) sub.disconnect();
  }
}

async function vigilTrial(controller: Controller, n: number): Promise<E2eTrial> {
  const group = await startReplicationGroup(2);
  const name = `e2e-${n}`;
  try {
    await api(controller.base, 'POST', '/api/v1/clusters', {
      name,
      nodes: group.map(({ host, port }) => ({ host, port })),
      quorum: 2,
      downAfterMs: DOWN_AFTER_MS,
      cooldownMs: 0,
    });
    await waitFor(
      async () => {
        const h = await api<{ nodes: { state: string; voters: number }[] }>(controller.base, 'GET', `/api/v1/clusters/${name}/health`);
        return h.nodes.every((x) => x.state === 'up' && x.voters === 3);
      },
      30_000,
      `${name} watched by three agents`,
      50,
    );
    return await crashTrial('vigil', group, [controller.sentinelPort], name);
  } finally {
    await Promise.all(group.map((s) => s.stop()));
    await api(controller.base, 'DELETE', `/api/v1/clusters/${name}`).catch(() => undefined);
  }
}

async function sentinelTrial(n: number): Promise<E2eTrial> {
  const group = await startReplicationGroup(2);
  const name = `e2e-${n}`;
  let sentinels: Sentinels | undefined;
  try {
    sentinels = await startSentinels(group[0]!, {
      name,
      count: 3,
      quorum: 2,
      downAfterMs: DOWN_AFTER_MS,
      failoverTimeoutMs: SENTINEL_FAILOVER_TIMEOUT_MS,
      replicas: 2,
    });
    return await crashTrial('sentinel', group, sentinels.ports, name);
  } finally {
    await sentinels?.stop();
    await Promise.all(group.map((s) => s.stop()));
  }
}

async function e2eBench(controller: Controller): Promise<E2eTrial[]> {
  const trials: E2eTrial[] = [];
  for (let n = 0; n < TRIALS; n++) {
    const order: System[] = n % 2 === 0 ? ['vigil', 'sentinel'] : ['sentinel', 'vigil'];
    for (const system of order) {
      const t = system === 'vigil' ? await vigilTrial(controller, n) : await sentinelTrial(n);
      trials.push(t);
      console.log(
        `e2e ${system.padEnd(8)} trial ${n + 1}: +switch-master after ${t.announcedMs} ms, first write on the new master after ${t.firstWriteMs} ms; client reconnected by hand ${t.restarts} time(s)`,
      );
    }
  }
  return trials;
}

// ---- main ----

interface Results {
  at: string;
  machine: string;
  lookup: LookupRun[];
  rest: RestRun[];
  dns: DnsRun | undefined;
  dnsClusters: number;
  e2e: E2eTrial[];
  seconds: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  const procs: ManagedProcess[] = [];
  let pg: PostgresServer | undefined;
  let lookupGroup: RedisServer[] = [];
  let lookupSentinel: Sentinels | undefined;
  const results: Results = {
    at: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    lookup: [],
    rest: [],
    dns: undefined,
    dnsClusters: 0,
    e2e: [],
    seconds: 0,
  };
  try {
    redisServerBinary();
    if (PARTS.has('lookup')) binary('redis-benchmark', 'REDIS_BENCHMARK_BIN', 'redis-tools');
    console.log(`bench:discovery on ${results.machine}; parts: ${[...PARTS].join(', ')}`);
    pg = await startPostgres();

    if (PARTS.has('lookup') || PARTS.has('rest') || PARTS.has('dns')) {
      // Parts 1-3: one controller without agents (lookups are answered from memory either way).
      const controller = await startController(await createDatabase(pg.adminUrl, 'vigil_bench_lookup'), 'bench-lookup', PROFILE);
      procs.push(controller.proc);
      lookupGroup = await startReplicationGroup(2);
      await api(controller.base, 'POST', '/api/v1/clusters', {
        name: LOOKUP_CLUSTER,
        nodes: lookupGroup.map(({ host, port }) => ({ host, port })),
        quorum: 2,
        downAfterMs: 5000,
      });
      const clusterNames: string[] = [];
      if (PARTS.has('dns')) {
        const farm = startNodeChild('dist/scripts/bench/node-farm-process.js', [String(DNS_CLUSTERS), '0']);
        procs.push(farm);
        const { groups } = await nextMessage<{ groups: number[][] }>(farm, 'ready');
        const t0 = Date.now();
        await inBatches(groups, 8, async ([port]) => {
          const name = `c${port}`;
          await api(controller.base, 'POST', '/api/v1/clusters', { name, nodes: [{ host: '127.0.0.1', port }], quorum: 2, downAfterMs: 5000 });
          clusterNames.push(name);
        });
        results.dnsClusters = clusterNames.length + 1;
        console.log(`${clusterNames.length} single-node clusters created for the DNS zone (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
      if (PARTS.has('lookup')) {
        lookupSentinel = await startSentinels(lookupGroup[0]!, {
          name: LOOKUP_CLUSTER,
          count: 1,
          quorum: 1,
          downAfterMs: 5000,
          failoverTimeoutMs: SENTINEL_FAILOVER_TIMEOUT_MS,
          replicas: 2,
        });
        results.lookup = await lookupBench(controller, lookupSentinel);
        await lookupSentinel.stop();
        lookupSentinel = undefined;
      }
      if (PARTS.has('rest')) results.rest = await restBench(controller);
      if (PARTS.has('dns')) {
        await waitFor(
          async () => ((await dnsAnswerCount(controller.dnsPort, `${clusterNames.at(-1)!}.${ZONE.slice(0, -1)}`)) ?? 0) > 0,
          10_000,
          'the DNS zone to hold the clusters',
        );
        results.dns = await dnsBench(controller, clusterNames);
      }
      await controller.proc.stop('SIGTERM', 10_000);
      for (const p of procs.splice(0)) await p.stop('SIGTERM', 5000);
      await Promise.all(lookupGroup.map((s) => s.stop()));
      lookupGroup = [];
    }

    if (PARTS.has('e2e')) {
      // Part 4: a fresh controller and database, three agents at their default interval.
      const controller = await startController(await createDatabase(pg.adminUrl, 'vigil_bench_e2e'), 'bench-e2e');
      procs.push(controller.proc);
      const token = (await api<{ token: string }>(controller.base, 'POST', '/api/v1/tokens', { name: 'bench-agents', role: 'agent' })).token;
      procs.push(...startBenchAgents(controller.base, token, PROBE_INTERVAL_MS));
      results.e2e = await e2eBench(controller);
    }

    results.seconds = (Date.now() - started) / 1000;
    print(results);
    if (ALL_PARTS.every((p) => PARTS.has(p))) {
      writeBenchmarkSection('bench:discovery', render(results));
      console.log('BENCHMARKS.md updated');
    } else {
      console.log('BENCHMARKS.md not updated (not every part ran)');
    }
  } finally {
    await lookupSentinel?.stop();
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 10_000)));
    await Promise.all(lookupGroup.map((s) => s.stop()));
    await pg?.stop();
  }
}

/** ANCOUNT of a single A query over UDP, or undefined without a reply within a second. */
async function dnsAnswerCount(port: number, name: string): Promise<number | undefined> {
  const labels = name.split('.');
  const query = Buffer.concat([
    Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])),
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
  const socket = createSocket('udp4');
  try {
    return await new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 1000);
      socket.on('message', (msg) => {
        clearTimeout(timer);
        resolve(msg.length >= 12 ? msg.readUInt16BE(6) : undefined);
      });
      socket.send(query, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

// ---- output ----

/** The median run (by requests/s) of a target and mode, with every run's requests/s. */
function lookupMedian(runs: LookupRun[], system: LookupTarget, pipeline: 1 | 16): LookupRun & { all: number[] } {
  const rs = runs.filter((r) => r.system === system && r.pipeline === pipeline).sort((a, b) => a.rps - b.rps);
  return { ...rs[Math.floor((rs.length - 1) / 2)]!, all: runs.filter((r) => r.system === system && r.pipeline === pipeline).map((r) => r.rps) };
}

function e2eStats(trials: E2eTrial[], system: System) {
  const ts = trials.filter((t) => t.system === system);
  const w = ts.map((t) => t.firstWriteMs);
  const a = ts.map((t) => t.announcedMs).filter(Number.isFinite);
  const restarts = ts.filter((t) => t.restarts > 0).length;
  return { p50: percentile(w, 50), p90: percentile(w, 90), all: w, announcedP50: percentile(a, 50), announcedP90: percentile(a, 90), restarts };
}

const met = (ok: boolean) => (ok ? 'met' : '**not met**');

function print(r: Results): void {
  console.log('\n=== bench:discovery summary ===');
  console.log(`machine: ${r.machine}; total ${f(r.seconds)} s`);
  for (const pipeline of [1, 16] as const) {
    if (r.lookup.length === 0) break;
    const v = lookupMedian(r.lookup, 'vigil', pipeline);
    const s = lookupMedian(r.lookup, 'sentinel', pipeline);
    const n = lookupMedian(r.lookup, 'node', pipeline);
    console.log(
      `SENTINEL get-master-addr-by-name, -P ${String(pipeline).padEnd(2)} (median of ${v.all.length}): Vigil ${f(v.rps)} req/s, Sentinel ${f(s.rps)} req/s, ` +
        `Vigil/Sentinel ${(v.rps / s.rps).toFixed(2)} (goal ≥ ${GOALS.lookupRatio.toFixed(1)}); bare node:net reference ${f(n.rps)} req/s`,
    );
  }
  for (const x of r.rest) {
    console.log(
      `REST ${x.target.padEnd(8)}: ${f(x.rps)} req/s, p50 ${x.p50Ms.toFixed(2)} ms, p99 ${x.p99Ms.toFixed(2)} ms (server ${x.serverCores.toFixed(2)} cores)`,
    );
  }
  if (r.dns) console.log(`DNS: ${f(r.dns.qps)} queries/s, p50 ${r.dns.p50Ms.toFixed(3)} ms, p99 ${r.dns.p99Ms.toFixed(3)} ms (goal ≥ ${f(GOALS.dnsQps)})`);
  if (r.e2e.length > 0) {
    const v = e2eStats(r.e2e, 'vigil');
    const s = e2eStats(r.e2e, 'sentinel');
    console.log(
      `crash → first write on the new master: Vigil p50 ${f(v.p50)} / p90 ${f(v.p90)} ms, Sentinel p50 ${f(s.p50)} / p90 ${f(s.p90)} ms, Vigil/Sentinel ${(v.p50 / s.p50).toFixed(2)} (goal ≤ ${GOALS.e2eRatio})`,
    );
  }
}

function render(r: Results): string {
  const lookupRows = ([1, 16] as const).flatMap((pipeline) => {
    const sentinel = lookupMedian(r.lookup, 'sentinel', pipeline);
    const mode = pipeline === 1 ? 'unpipelined' : `pipelined (\`-P ${pipeline}\`)`;
    return (['vigil', 'sentinel', 'node'] as const).map((system) => {
      const x = lookupMedian(r.lookup, system, pipeline);
      const ratio = x.rps / sentinel.rps;
      const label = { vigil: 'Vigil', sentinel: 'Redis Sentinel', node: 'bare node:net reference' }[system];
      const ratioText = system === 'vigil' ? `**${ratio.toFixed(2)}** (${met(ratio >= GOALS.lookupRatio)})` : ratio.toFixed(2);
      return (
        `| ${mode} | ${label} | ${system === 'vigil' ? `**${f(x.rps)}**` : f(x.rps)} (${x.all.map((y) => f(y)).join(', ')}) | ${ratioText} ` +
        `| ${x.p50Ms.toFixed(3)} / ${x.p99Ms.toFixed(3)} | ${x.serverCores.toFixed(2)} | ${x.machineCores.toFixed(2)} |`
      );
    });
  });
  const restLabel = {
    baseline: 'bare node:http server, same body (harness ceiling)',
    live: 'controller `GET /health/live` (no auth)',
    master: 'controller `GET /api/v1/clusters/{name}/master`',
  };
  const restRows = r.rest.map(
    (x) =>
      `| ${restLabel[x.target]} | ${x.target === 'master' ? `**${f(x.rps)}** (${met(x.rps >= GOALS.restRps)})` : f(x.rps)} | ${x.p50Ms.toFixed(2)} / ${x.p99Ms.toFixed(2)} | ${x.serverCores.toFixed(2)} | ${f((x.serverCores / x.rps) * 1e6)} | ${x.generatorCores.toFixed(2)} | ${x.machineCores.toFixed(2)} | ${x.non200 + x.errors} |`,
  );
  const d = r.dns!;
  const v = e2eStats(r.e2e, 'vigil');
  const s = e2eStats(r.e2e, 'sentinel');
  const e2eRatio = v.p50 / s.p50;
  return `## Discovery: Sentinel endpoint, REST, DNS, and a client through a crash (\`npm run bench:discovery\`)

Run ${r.at} on ${r.machine}; ${f(r.seconds)} s in all.

**Method.** Everything runs on this machine, each server and each load generator a process of its own, so the load
generators share the two cores with what they measure (*Machine CPU*: all processes, from \`/proc/stat\`; *Server CPU*
from \`/proc/<pid>/stat\`, both over the measured time). Parts 1-3 ask one controller (no agents) with its
Sentinel-compatible endpoint (\`SENTINEL_PORT\`) and DNS responder (\`DNS_PORT\`, zone \`${ZONE}\`) on, \`LOG_LEVEL=warn\`.

1. *Sentinel lookups*: \`redis-benchmark -c ${LOOKUP_CLIENTS} --csv SENTINEL get-master-addr-by-name ${LOOKUP_CLUSTER}\`, ${f(LOOKUP_REQUESTS[1])} requests
   unpipelined and ${f(LOOKUP_REQUESTS[16])} with \`-P 16\`, against Vigil's endpoint and against a real Redis Sentinel (\`redis-server --sentinel\`)
   monitoring the same master (a redis-server with two replicas), both answering the same address; ${LOOKUP_RUNS} runs each, alternating,
   the median run shown. redis-benchmark is single-threaded and takes most of a core itself. For reference, the same against a
   bare node:net server that answers every command with the same fixed reply (\`scripts/bench/resp-baseline-server.ts\`): what a
   Node process can do on these sockets before doing any work.
2. *REST*: a load generator process (node:http, keep-alive agent) with ${REST_CONNECTIONS} connections, each sending the next \`GET\` as soon as
   the last answer is read; ${WARMUP_MS / 1000} s of warm-up, then ${REST_SECONDS} s measured, latency per request. The bearer token is a viewer token (verified
   once, then cached by the controller). The same generator against \`/health/live\` (the controller's request pipeline without
   auth, validation or route work) and against a bare node:http server answering the same body (the most this generator and
   machine allow) show what the pipeline and the harness cost.
3. *DNS*: ${d.names} pre-encoded A queries for \`<cluster>.${ZONE.slice(0, -1)}\` (a random cluster and a random ID per query), ${DNS_WINDOW} kept outstanding over one
   UDP socket, replies matched by ID and timed; ${WARMUP_MS / 1000} s of warm-up, ${DNS_SECONDS} s measured. The zone holds ${f(r.dnsClusters)} clusters (${f(r.dnsClusters - 1)} single
   nodes of the benchmark node farm, created through the REST API, and the lookup cluster). Every reply is checked for NOERROR
   with an answer.
4. *End to end*: per trial a fresh master with two replicas (redis-server) and an ioredis Sentinel client (500 ms command timeout,
   no offline queue, reconnect and Sentinel retry every 50 ms, \`failoverDetector\`) sending \`INCR\` with a 1 ms pause; after 1 s
   the master is SIGKILLed. *First write*: from the kill to the client's first acknowledged \`INCR\` on another server than the old
   master (checked against the endpoint's answer afterwards). *+switch-master*: from the kill to the first such event on any
   endpoint the client was given. When ioredis gives up (status \`end\`: a \`+switch-master\` disconnected it while it was asking
   the sentinels), the loop connects it again, as an application must. Vigil: a fresh controller and database, 3 agents (probe
   interval ${PROBE_INTERVAL_MS} ms), quorum 2, down-after ${DOWN_AFTER_MS} ms; the client is given Vigil's endpoint as its only sentinel. Sentinel: 3
   \`redis-server --sentinel\`, quorum 2, \`down-after-milliseconds ${DOWN_AFTER_MS}\`, \`failover-timeout ${SENTINEL_FAILOVER_TIMEOUT_MS}\`; the client is given all three.
   ${TRIALS} trials each, alternating.

**1. \`SENTINEL get-master-addr-by-name\`** (requests/s: median, then every run; latency as redis-benchmark reports it)

| Requests | Server | Requests/s: median (runs) | ÷ Sentinel (goal ≥ ${GOALS.lookupRatio.toFixed(1)}) | p50 / p99 (ms) | Server CPU (cores) | Machine CPU (cores) |
|---|---|---|---|---|---|---|
${lookupRows.join('\n')}

**2. REST lookups**, ${REST_CONNECTIONS} keep-alive connections (goal ≥ ${f(GOALS.restRps)} lookups/s)

| Target | Requests/s | p50 / p99 (ms) | Server CPU (cores) | Server CPU per request (µs) | Generator CPU (cores) | Machine CPU (cores) | Errors |
|---|---|---|---|---|---|---|---|
${restRows.join('\n')}

**3. DNS**, A queries over UDP, ${DNS_WINDOW} outstanding (goal ≥ ${f(GOALS.dnsQps)} queries/s)

| Queries/s | p50 / p99 (ms) | Responder (controller) CPU (cores) | Generator CPU (cores) | Machine CPU (cores) | Bad replies / lost |
|---|---|---|---|---|---|
| **${f(d.qps)}** (${met(d.qps >= GOALS.dnsQps)}) | ${d.p50Ms.toFixed(3)} / ${d.p99Ms.toFixed(3)} | ${d.serverCores.toFixed(2)} | ${d.generatorCores.toFixed(2)} | ${d.machineCores.toFixed(2)} | ${d.bad} / ${d.lost} |

**4. Master crash under an ioredis Sentinel client**, down-after ${DOWN_AFTER_MS} ms (goal: Vigil's median ≤ ${GOALS.e2eRatio} × Sentinel's)

| System | First write on the new master p50 / p90 (ms) | Per trial (ms) | +switch-master p50 / p90 (ms) | Client connected again by the loop |
|---|---|---|---|---|
| Vigil | **${f(v.p50)}** / ${f(v.p90)} | ${v.all.map((x) => f(x)).join(', ')} | ${f(v.announcedP50)} / ${f(v.announcedP90)} | ${v.restarts} of ${v.all.length} trials |
| Redis Sentinel | ${f(s.p50)} / ${f(s.p90)} | ${s.all.map((x) => f(x)).join(', ')} | ${f(s.announcedP50)} / ${f(s.announcedP90)} | ${s.restarts} of ${s.all.length} trials |

Vigil / Sentinel, median first write: **${e2eRatio.toFixed(2)}** (${met(e2eRatio <= GOALS.e2eRatio)}).
`;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
