/**
 * `npm run bench:dns`: Vigil's built-in DNS responder against BIND9 serving the same zone, both measured
 * with dnsperf from the same query file, in one run on this machine.
 *
 * The zone: one controller (DNS_PORT, zone `redis.bench.`) holding 1,000 (`--clusters`) single-node
 * clusters of the node farm, created through the REST API; BIND9 (`named -g`) serves a zone file with
 * Vigil's SOA and NS and each cluster's A and SRV record. Before measuring, every distinct question of the
 * query file is asked of both servers and the replies compared (rcode, every section). The query file: A
 * `<cluster>.<zone>` and SRV `_redis._tcp.<cluster>.<zone>`, 80 % hits and 20 % names that do not exist,
 * shuffled. Throughput: dnsperf unlimited (`-c` BENCH_DNS_CLIENTS, 4; `-q` BENCH_DNS_OUTSTANDING,
 * 256), a short warm-up then a fixed time, 3 (`--runs`) rounds each rotating the order of the servers;
 * the median run shown, with each server's CPU from /proc/<pid>/stat and the machine's from /proc/stat
 * over the measured time. Latency percentiles: dnsperf 2.10 has no histogram, so one verbose run (`-v`,
 * a line per response) per server at a fixed rate, half the slower server's median, where the
 * per-query lines also check every rcode.
 * Also measured: BIND9 with one worker thread, libs/dns-server's DnsServer alone serving the same zone
 * (the responder without the controller), and a bare node:dgram server echoing each query (what Node's
 * UDP sockets allow here).
 *
 * Options: `--out <file>` (default BENCHMARKS.md, section `bench:dns`); `--dist <dir>[,<dir>…]` runs
 * Vigil from other builds (each its own controller and database, all measured in the same rounds);
 * `--label <a>[,<b>…]` names them; `--seconds <n>`, `--runs <n>`, `--clusters <n>`. A run with other
 * seconds, runs or clusters than the defaults writes its section only with an explicit `--out`.
 * BENCH_PROFILE=<dir> writes a V8 CPU profile of each controller there.
 */
import { inBatches, startBenchController } from './bench/controller.js';
import { rmSync, mkdtempSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as dnsPacket from 'dns-packet';
import { createDatabase, freePort, startPostgres, waitFor } from '../libs/testing/src/index.js';
import { api } from './bench/admin-api.js';
import { startBenchBind, NAMED } from './bench/bind-bench.js';
import { compareServers, DnsAsker } from './bench/dns-compare.js';
import { renderDnsReport, type DnsReport, type Target, type ThroughputRun, type LatencyRun } from './bench/dns-report.js';
import type { DnsServerAloneOptions } from './bench/dns-server-alone.js';
import { queryFile, zoneFileText, type BenchCluster } from './bench/dns-zone-files.js';
import { dnsperfBinary, runDnsperf, runDnsperfVerbose, type DnsperfOptions } from './bench/dnsperf.js';
import { busy } from './bench/cpu-busy.js';
import { cpuSeconds, nextMessage, startNodeChild } from './bench/processes.js';
import { percentile, writeBenchmarkSection } from './bench/report.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const DISTS = (option('dist') ?? 'dist').split(',').map((d) => resolve(d));
const LABELS = option('label')?.split(',') ?? DISTS.map((d, i) => (DISTS.length === 1 ? 'Vigil' : `Vigil, build ${i + 1} (${d})`));
const OUT = option('out');
const SECONDS = Number(option('seconds') ?? 10);
const RUNS = Number(option('runs') ?? 3);
const CLUSTERS = Number(option('clusters') ?? 1000);
const PARTIAL = option('seconds') !== undefined || option('runs') !== undefined || option('clusters') !== undefined;
const WARMUP_SECONDS = 2;
const LATENCY_SECONDS = 5;
const CLIENTS = Number(process.env['BENCH_DNS_CLIENTS'] ?? 4);
const OUTSTANDING = Number(process.env['BENCH_DNS_OUTSTANDING'] ?? 256);
const BIND_THREADS = os.cpus().length;
const MISS_SHARE = 0.2;
const HIT_REPEAT = 4;
const CREATE_CONCURRENCY = 8;
const ZONE = 'redis.bench.';
const PROFILE = process.env['BENCH_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE']}`] : [];

const cleanups: (() => Promise<unknown> | void)[] = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) await Promise.race([Promise.resolve().then(step), sleep(15_000)]).catch(() => undefined);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanup().finally(() => process.exit(130)));

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');

/** Warm-up, then one measured dnsperf run with the server's and the machine's CPU over it. */
async function throughputRun(target: Target, round: number, file: string): Promise<ThroughputRun> {
  const base: DnsperfOptions = { port: target.port, file, seconds: WARMUP_SECONDS, clients: CLIENTS, outstanding: OUTSTANDING, timeout: 2 };
  await runDnsperf(base);
  const cpu0 = cpuSeconds(target.pid);
  const t0 = performance.now();
  const { value: stats, machine, own } = await busy(() => runDnsperf({ ...base, seconds: SECONDS }));
  const elapsed = (performance.now() - t0) / 1000;
  const run: ThroughputRun = {
    target: target.key,
    round,
    stats,
    serverCores: (cpuSeconds(target.pid) - cpu0) / elapsed,
    machineCores: machine,
    otherCores: Math.max(0, machine - own),
  };
  const codes = Object.entries(stats.rcodes)
    .map(([c, n]) => `${c} ${f(n)}`)
    .join(', ');
  console.log(
    `round ${round + 1} ${target.label.padEnd(28)}: ${f(stats.qps)} q/s, avg ${stats.avgMs.toFixed(3)} ms (min ${stats.minMs.toFixed(3)}, max ${stats.maxMs.toFixed(1)}, sd ${stats.stddevMs.toFixed(3)}), lost ${stats.lost}; ${codes}; server ${run.serverCores.toFixed(2)} cores, machine ${run.machineCores.toFixed(2)} (other load ${run.otherCores.toFixed(2)})`,
  );
  return run;
}

async function latencyRun(target: Target, rate: number, file: string, hits: Set<string>, dir: string): Promise<LatencyRun> {
  const o: DnsperfOptions = { port: target.port, file, seconds: LATENCY_SECONDS, clients: CLIENTS, outstanding: OUTSTANDING, timeout: 2, rate };
  const { stats, responses } = await runDnsperfVerbose(o, join(dir, `verbose-${target.key}.txt`));
  // `T`: timed out, `I`: interrupted at the end of the run.
  const answered = responses.filter((r) => r.rcode !== 'T' && r.rcode !== 'I');
  const latencies = answered.map((r) => r.latencyMs);
  // The echo reference answers NOERROR without records: its rcodes say nothing.
  const wrong =
    target.kind === 'node' ? 0 : answered.filter((r) => r.rcode !== (hits.has(r.name.toLowerCase().replace(/\.$/, '')) ? 'NOERROR' : 'NXDOMAIN')).length;
  latencies.sort((a, b) => a - b);
  const run: LatencyRun = {
    target: target.key,
    rate,
    qps: stats.qps,
    responses: answered.length,
    lost: responses.length - answered.length,
    wrong,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    p999Ms: percentile(latencies, 99.9),
    maxMs: latencies.at(-1) ?? NaN,
  };
  console.log(
    `latency at ${f(rate)} q/s ${target.label.padEnd(28)}: p50 ${run.p50Ms.toFixed(3)} ms, p90 ${run.p90Ms.toFixed(3)}, p99 ${run.p99Ms.toFixed(3)}, p99.9 ${run.p999Ms.toFixed(3)}, max ${run.maxMs.toFixed(1)}; ${f(run.responses)} responses, ${run.lost} lost, ${run.wrong} with a wrong rcode`,
  );
  return run;
}

/** Waits until the responder answers the A record of every cluster (role discovery may retry a node that was slow to answer). */
async function everyMasterPublished(port: number, clusters: BenchCluster[]): Promise<void> {
  const asker = new DnsAsker(port);
  let missing = clusters;
  try {
    await waitFor(
      async () => {
        const still: BenchCluster[] = [];
        for (const c of missing) if ((await asker.ask({ name: `${c.name}.${ZONE}`, type: 'A' })).answers === 0) still.push(c);
        missing = still;
        return missing.length === 0;
      },
      60_000,
      'every master in the zone',
      500,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${missing.length} clusters have no A record (${missing
          .slice(0, 5)
          .map((c) => c.name)
          .join(', ')}, …)`,
      );
    });
  } finally {
    asker.close();
  }
}

/** Vigil's SOA, NS and the nameserver's address, as Vigil answers them. */
async function vigilApex(port: number) {
  const asker = new DnsAsker(port);
  try {
    const soa = (await asker.ask({ name: ZONE, type: 'SOA' })).packet.answers?.[0] as dnsPacket.SoaAnswer | undefined;
    const ns = ((await asker.ask({ name: ZONE, type: 'NS' })).packet.answers?.[0] as dnsPacket.StringAnswer | undefined)?.data;
    const nsAddress = ns && ((await asker.ask({ name: ns, type: 'A' })).packet.answers?.[0] as dnsPacket.StringAnswer | undefined)?.data;
    if (!soa || !ns || !nsAddress) throw new Error(`Vigil's responder does not answer its apex (SOA ${JSON.stringify(soa)}, NS ${ns}, ${nsAddress})`);
    return { soa, ns, nsAddress };
  } finally {
    asker.close();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-dns-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  dnsperfBinary();
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  console.log(`bench:dns on ${machine}: ${CLUSTERS} clusters, ${RUNS} rounds of ${SECONDS} s, dnsperf -c ${CLIENTS} -q ${OUTSTANDING}`);

  const pg = await startPostgres();
  cleanups.push(() => pg.stop());
  const farm = startNodeChild('dist/scripts/bench/node-farm-process.js', [String(CLUSTERS), '0']);
  cleanups.push(() => farm.stop('SIGTERM', 5000));
  const { groups } = await nextMessage<{ groups: number[][] }>(farm, 'ready');
  const clusters: BenchCluster[] = groups.map(([port]) => ({ name: `c${port}`, host: '127.0.0.1', port: port! }));

  const targets: Target[] = [];
  for (const [i, dist] of DISTS.entries()) {
    const started = await startBenchController({
      dist,
      databaseUrl: await createDatabase(pg.adminUrl, `vigil_bench_dns_${i}`),
      name: `bench-dns-${i}`,
      nodeArgs: PROFILE,
      env: async () => ({ PUBLISH_HOST: '127.0.0.1', DNS_PORT: String(await freePort()), DNS_ZONE: ZONE, REDIS_ADMIN_TIMEOUT_MS: '500' }),
    });
    const controller = { ...started, dnsPort: Number(started.env['DNS_PORT']) };
    cleanups.push(() => controller.proc.stop('SIGTERM', 10_000));
    const t0 = Date.now();
    await inBatches(clusters, CREATE_CONCURRENCY, async (c) => {
      await api(controller.base, 'POST', '/api/v1/clusters', { name: c.name, nodes: [{ host: c.host, port: c.port }], quorum: 2, downAfterMs: 5000 });
    });
    console.log(`${LABELS[i]}: ${clusters.length} clusters created (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    await everyMasterPublished(controller.dnsPort, clusters);
    targets.push({ key: `vigil-${i}`, kind: 'vigil', label: LABELS[i]!, port: controller.dnsPort, pid: controller.proc.child.pid! });
  }

  const apex = await vigilApex(targets[0]!.port);
  const zoneText = zoneFileText(ZONE, apex, clusters);
  const binds = await Promise.all([startBenchBind(ZONE, zoneText, BIND_THREADS), startBenchBind(ZONE, zoneText, 1)]);
  for (const b of binds) cleanups.push(() => b.stop());
  targets.push(
    { key: 'bind', kind: 'bind', label: `BIND9 (${BIND_THREADS} worker threads)`, port: binds[0].port, pid: binds[0].proc.child.pid! },
    { key: 'bind-1', kind: 'bind', label: 'BIND9 (1 worker thread)', port: binds[1].port, pid: binds[1].proc.child.pid! },
  );
  const alone = startNodeChild('dist/scripts/bench/dns-server-alone.js', [
    JSON.stringify({
      zone: ZONE,
      ttl: apex.soa.ttl ?? 0,
      serial: apex.soa.data.serial ?? 0,
      nameserver: `${apex.ns}.`,
      nameserverAddress: apex.nsAddress,
      masters: clusters.map((c) => [c.name, { host: c.host, port: c.port }]),
    } satisfies DnsServerAloneOptions),
  ]);
  cleanups.push(() => alone.stop('SIGTERM', 2000));
  const { port: alonePort } = await nextMessage<{ port: number }>(alone, 'ready');
  targets.push({ key: 'library', kind: 'library', label: 'libs/dns-server alone', port: alonePort, pid: alone.child.pid! });
  const echo = startNodeChild('dist/scripts/bench/udp-baseline-server.js', []);
  cleanups.push(() => echo.stop('SIGTERM', 2000));
  const { port: echoPort } = await nextMessage<{ port: number }>(echo, 'ready');
  targets.push({ key: 'node', kind: 'node', label: 'bare node:dgram echo', port: echoPort, pid: echo.child.pid! });

  const queries = queryFile(ZONE, clusters, HIT_REPEAT, MISS_SHARE);
  const file = join(dir, 'queries.txt');
  writeFileSync(file, `${queries.lines.join('\n')}\n`);
  const hit = (q: { name: string }) => queries.hits.has(q.name.toLowerCase());
  const comparisons: DnsReport['comparisons'] = [];
  for (const t of targets.filter((x) => x.kind === 'vigil' || x.kind === 'library')) {
    const c = await compareServers(t.port, binds[0].port, queries.questions, hit);
    comparisons.push({ ...c, target: t.key });
    console.log(
      `${t.label} against BIND9: ${f(c.questions)} questions, ${c.differing} replies differ, wrong answers ${c.wrong[0]} (Vigil) / ${c.wrong[1]} (BIND9)`,
    );
    for (const d of c.differences) console.log(`  ${d.question.name} ${d.question.type}\n    Vigil: ${d.a}\n    BIND9: ${d.b}`);
  }

  const throughput: ThroughputRun[] = [];
  for (let round = 0; round < RUNS; round++) {
    // Rotated each round, so no server always follows the same one.
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const t of order) throughput.push(await throughputRun(t, round, file));
  }
  const median = (key: string) =>
    percentile(
      throughput.filter((r) => r.target === key).map((r) => r.stats.qps),
      50,
    );
  const rate = Math.max(
    1000,
    Math.round((Math.min(median('bind'), ...targets.filter((t) => t.kind === 'vigil').map((t) => median(t.key))) * 0.5) / 1000) * 1000,
  );
  const latency: LatencyRun[] = [];
  for (const t of targets) latency.push(await latencyRun(t, rate, file, queries.hits, dir));

  const report: DnsReport = {
    at: new Date().toISOString(),
    machine,
    seconds: (Date.now() - started) / 1000,
    bindVersion: binds[0].version,
    named: NAMED,
    clusters: clusters.length,
    lines: queries.lines.length,
    missShare: queries.missShare,
    settings: {
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      runs: RUNS,
      clients: CLIENTS,
      outstanding: OUTSTANDING,
      latencySeconds: LATENCY_SECONDS,
      bindThreads: BIND_THREADS,
      zone: ZONE,
    },
    targets,
    comparisons,
    throughput,
    latency,
  };
  const { console: summary, markdown } = renderDnsReport(report);
  console.log(`\n${summary}`);
  const bad = comparisons.some((c) => c.differing > 0 || c.wrong[0] + c.wrong[1] > 0) || latency.some((l) => l.wrong > 0);
  if (bad) {
    console.log('not written: the servers did not give the same, expected answers');
    process.exitCode = 1;
  } else if (PARTIAL && OUT === undefined) {
    console.log('not written: a partial run (pass --out to write it)');
  } else {
    writeBenchmarkSection('bench:dns', markdown, OUT ?? 'BENCHMARKS.md');
    console.log(`${OUT ?? 'BENCHMARKS.md'} updated`);
  }
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  })
  .finally(() => cleanup());
