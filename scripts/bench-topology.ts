/**
 * `npm run bench:topology`: what a topology write costs as the topology grows. For each size (100, 1,000
 * and 5,000 clusters of 3 nodes, served by the node farm so role discovery gets real answers):
 *
 * 1. a fresh database and two controller replicas (a and b) on it;
 * 2. every cluster created through a's REST API, 8 requests in flight (a platform tool's bulk import),
 *    timed until the last create has answered and until replica b publishes the last cluster's master
 *    (`GET /clusters/{name}/master` answers from b's memory);
 * 3. 50 sequential settings changes (`PATCH`) at that size, and each replica's CPU seconds.
 *
 * `--dist <dir>` runs the controllers from another build (e.g. a worktree of an earlier commit), to
 * measure before and after a change in the same run (`--baseline other-dist --baseline-label name`: that build first at each size); `--sizes 100,1000` picks sizes; `--label` names the
 * build in the table; BENCH_CONTROLLER_NODE_ARGS adds node options to the controllers (e.g. `--cpu-prof`). Only the default build at the default sizes rewrites BENCHMARKS.md (section
 * `bench:topology`); `--write` forces it.
 */
import { inBatches, startBenchController } from './bench/controller.js';
import { farmSlices } from './bench/node-farm.js';
import os from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDatabase, freePort, type PostgresServer, startPostgres, waitFor } from '../libs/testing/src/index.js';
import { api, BENCH_ADMIN_TOKEN } from './bench/admin-api.js';
import { metric } from './bench/metrics.js';
import { cpuSeconds, nextMessage, raiseFileLimit, startNodeChild } from './bench/processes.js';
import { percentile, writeBenchmarkSection } from './bench/report.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const DIST = resolve(option('dist') ?? 'dist');
const SIZES = (option('sizes') ?? '100,1000,5000').split(',').map(Number);
const LABEL = option('label') ?? 'this build';
/** Another build measured at each size just before this one, in the same run (`--baseline dist-dir`). */
const BASELINE = option('baseline') !== undefined ? resolve(option('baseline')!) : undefined;
const BASELINE_LABEL = option('baseline-label') ?? 'baseline';
const CONCURRENCY = 8;
/** 2,500 groups: 7,500 ports and up to 5,000 Sentinel links from the two replicas, well inside 20,000 files. */
const FARM_GROUPS_PER_PROCESS = 2500;
const PATCHES = 50;

const cleanups: (() => Promise<unknown> | void)[] = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) await Promise.race([Promise.resolve().then(step), sleep(15_000)]).catch(() => undefined);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanup().finally(() => process.exit(130)));

interface Row {
  build: string;
  clusters: number;
  createS: number;
  perClusterMs: number;
  followS: number;
  patchP50Ms: number;
  patchP95Ms: number;
  cpuA: number;
  cpuB: number;
  fullReloadsB?: number;
  partialReloadsB?: number;
}

async function measure(adminUrl: string, groups: number[][], size: number, dist = DIST, build = LABEL): Promise<Row> {
  const databaseUrl = await createDatabase(adminUrl, `vigil_topo_${size}_${build === LABEL ? 'a' : 'b'}`);
  const start = async (name: string, migrate: boolean) =>
    startBenchController({
      dist,
      databaseUrl,
      name,
      env: async () => ({ SENTINEL_PORT: String(await freePort()), MIGRATIONS_RUN: migrate ? 'true' : 'false' }),
    });
  const a = await start('a', true);
  const b = await start('b', false);
  try {
    const mine = groups.slice(0, size);
    const cpu0 = [cpuSeconds(a.proc.child.pid!), cpuSeconds(b.proc.child.pid!)];
    const t0 = performance.now();
    await inBatches(mine, CONCURRENCY, async (group) => {
      await api(a.base, 'POST', '/api/v1/clusters', {
        name: `c${group[0]!}`,
        nodes: group.map((p) => ({ host: '127.0.0.1', port: p })),
        quorum: 2,
        downAfterMs: 5000,
        autoFailover: false,
      });
    });
    const createS = (performance.now() - t0) / 1000;
    const last = `c${mine[mine.length - 1]![0]!}`;
    const headers = { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };
    console.log(`${size} clusters created in ${createS.toFixed(2)} s; waiting for replica b`);
    try {
      await waitFor(
        async () => (await fetch(`${b.base}/api/v1/clusters/${last}/master`, { headers })).status === 200,
        120_000,
        'replica b publishes the last cluster',
        20,
      );
    } catch (err) {
      // What each replica holds for that cluster, to tell a slow follower from a cluster without a master.
      for (const [name, r] of [
        ['a', a],
        ['b', b],
      ] as const) {
        for (const path of [`/api/v1/clusters/${last}/master`, `/api/v1/clusters/${last}`, `/api/v1/events?cluster=${last}`]) {
          const res = await fetch(`${r.base}${path}`, { headers }).catch((e: unknown) => e as Error);
          console.error(`${name} ${path}: ${res instanceof Error ? res.message : `${res.status} ${(await res.text()).slice(0, 1500)}`}`);
        }
      }
      throw err;
    }
    const followS = (performance.now() - t0) / 1000;
    const cpu1 = [cpuSeconds(a.proc.child.pid!), cpuSeconds(b.proc.child.pid!)];

    const patches: number[] = [];
    for (let i = 0; i < PATCHES; i++) {
      const t = performance.now();
      await api(a.base, 'PATCH', `/api/v1/clusters/c${mine[i % mine.length]![0]!}`, { cooldownMs: 60_000 + i });
      patches.push(performance.now() - t);
    }
    const row: Row = {
      build,
      clusters: size,
      createS,
      perClusterMs: (createS * 1000) / size,
      followS,
      patchP50Ms: percentile(patches, 50),
      patchP95Ms: percentile(patches, 95),
      cpuA: cpu1[0]! - cpu0[0]!,
      cpuB: cpu1[1]! - cpu0[1]!,
    };
    const full = await metric(b.base, 'vigil_topology_reloads_total', { kind: 'full' });
    if (full !== undefined) {
      row.fullReloadsB = full;
      row.partialReloadsB = await metric(b.base, 'vigil_topology_reloads_total', { kind: 'partial' });
    }
    return row;
  } finally {
    await Promise.all([a.proc.stop('SIGTERM', 5000), b.proc.stop('SIGTERM', 5000)]);
  }
}

function table(rows: Row[]): string {
  const lines = [
    '| build | clusters | created in | per cluster | replica b has all | PATCH p50 / p95 | CPU a / b | b: full / partial loads |',
    '| ----- | -------: | ---------: | ----------: | ----------------: | --------------: | --------: | ----------------------: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.build} | ${r.clusters.toLocaleString('en')} | ${r.createS.toFixed(2)} s | ${r.perClusterMs.toFixed(2)} ms | ${r.followS.toFixed(2)} s | ${r.patchP50Ms.toFixed(1)} / ${r.patchP95Ms.toFixed(1)} ms | ${r.cpuA.toFixed(1)} / ${r.cpuB.toFixed(1)} s | ${r.fullReloadsB !== undefined ? `${r.fullReloadsB} / ${r.partialReloadsB ?? 0}` : 'n/a'} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  console.log(`bench:topology: ${LABEL} (${DIST}), sizes ${SIZES.join(', ')}, ${CONCURRENCY} creates in flight`);
  let adminUrl = process.env['BENCH_DATABASE_URL'];
  if (!adminUrl) {
    const pg: PostgresServer = await startPostgres();
    cleanups.push(() => pg.stop());
    adminUrl = pg.adminUrl;
  }
  // 5,000 clusters: 15,000 farm ports, and each replica's Sentinel endpoint keeps a link to every master:
  // more descriptors than one process may hold where the open-file limit cannot be raised (20,000 here),
  // so the farm is split into processes of at most FARM_GROUPS_PER_PROCESS groups.
  raiseFileLimit();
  const largest = Math.max(...SIZES);
  const groups: number[][] = [];
  const slices = farmSlices(largest, 3, FARM_GROUPS_PER_PROCESS);
  for (const slice of slices) {
    const farm = startNodeChild('dist/scripts/bench/node-farm-process.js', [String(slice.groups), '2', String(slice.firstPort)]);
    cleanups.push(() => farm.stop('SIGTERM', 2000));
    groups.push(...(await nextMessage<{ groups: number[][] }>(farm, 'ready')).groups);
  }
  console.log(`node farm: ${groups.length * 3} nodes in ${slices.length} processes`);

  const rows: Row[] = [];
  for (const size of SIZES) {
    for (const [dist, build] of [...(BASELINE ? [[BASELINE, BASELINE_LABEL]] : []), [DIST, LABEL]] as [string, string][]) {
      const row = await measure(adminUrl, groups, size, dist, build);
      rows.push(row);
      console.log(
        `${build}: ${size} clusters: created in ${row.createS.toFixed(2)} s (${row.perClusterMs.toFixed(2)} ms each), replica b has all after ${row.followS.toFixed(2)} s; PATCH p50 ${row.patchP50Ms.toFixed(1)} ms; CPU a ${row.cpuA.toFixed(1)} s, b ${row.cpuB.toFixed(1)} s`,
      );
    }
  }
  const result = table(rows);
  console.log(`\n${result}\n`);

  const isDefault = option('dist') === undefined && option('sizes') === undefined && BASELINE === undefined;
  if (isDefault || args.includes('--write')) {
    writeBenchmarkSection(
      'bench:topology',
      `## Topology writes as the topology grows (\`npm run bench:topology\`)

Method: a fresh PostgreSQL database per size and two controller replicas on it; every cluster (3 nodes on
the node farm, so role discovery gets real answers) is created through replica a's REST API with 8 requests
in flight, as a bulk import would; "replica b has all" is when b's in-memory directory publishes the last
cluster's master (\`GET /clusters/{name}/master\`); then 50 sequential \`PATCH\`es of a setting. CPU is
each controller's user + system time over the creation. Each write reloads only the cluster it touched on
both replicas (\`vigil_topology_reloads_total\`); b's full loads are its start-up and 10 s safety reloads.
${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; ${BASELINE ? `each size measured with ${BASELINE_LABEL} first, then ${LABEL}` : LABEL}.

${result}
`,
    );
    console.log('BENCHMARKS.md updated (section bench:topology)');
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => void cleanup());
