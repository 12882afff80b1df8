/**
 * `npm run bench:rest`: requests per second and latency of every read route of the REST API, measured
 * with wrk (`-t1 -c64 --latency`, 3 s warm-up then 10 s) against one controller holding 1,000 clusters of
 * 3 nodes (the node farm), with a viewer token. A route that takes a cluster name is asked about a random
 * cluster per request (`scripts/bench/wrk-paths.lua`). The read routes are taken from the controller's own
 * OpenAPI document: every GET a viewer token may call, except the event stream and routes keyed by
 * something else than a cluster name. `/health/live` and a bare node:http server answering the master
 * lookup's body (`scripts/bench/http-baseline-server.ts`: what wrk and this machine allow) are measured
 * alongside.
 *
 * Options: `--dist <dir>[,<dir>…]` runs the controller of another build (several: each route is measured
 * on every build back to back, each build with its own database); `--label <a>[,<b>…]` names them;
 * `--out <file>` (default BENCHMARKS.md, section `bench:rest`); `--routes <substring>[,…]` measures only
 * matching routes; `--seconds <n>`; `--clusters <n>`; BENCH_CONTROLLER_NODE_ARGS adds node options to the
 * controllers (e.g. `--cpu-prof --cpu-prof-dir=<dir>`). A partial run (routes or seconds changed) writes its
 * section only with an explicit `--out`; a run with error answers writes nothing and exits 1.
 */
import { inBatches, startBenchController } from './bench/controller.js';
import os from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDatabase, type ManagedProcess, startPostgres, waitFor } from '../libs/testing/src/index.js';
import { api } from './bench/admin-api.js';
import { binary, nextMessage, startNodeChild } from './bench/processes.js';
import { writeBenchmarkSection } from './bench/report.js';
import { postgresPid } from './bench/process-tree.js';
import { runWrk, type WrkResult } from './bench/wrk.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const DISTS = (option('dist') ?? 'dist').split(',').map((d) => resolve(d));
const LABELS = option('label')?.split(',') ?? DISTS.map((d, i) => (DISTS.length === 1 ? 'this build' : `build ${i + 1} (${d})`));
const OUT = option('out') ?? 'BENCHMARKS.md';
const ROUTE_FILTER = option('routes')?.split(',');
const SECONDS = Number(option('seconds') ?? 10);
const CLUSTERS = Number(option('clusters') ?? 1000);
const WARMUP_SECONDS = 3;
const CONNECTIONS = 64;
/** Well above the goal's p99: a slow route is measured slow, not counted as failing. */
const TIMEOUT_SECONDS = 30;
const CREATE_CONCURRENCY = 8;
const MASTER_ROUTE = '/api/v1/clusters/{name}/master';
const GOALS = { masterRps: 30_000, routeRps: 10_000, p99Ms: 10 };

/** The benchmark's own PostgreSQL, whose CPU is measured with the controller's. */
let databasePid: number | undefined;

const cleanups: (() => Promise<unknown> | void)[] = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) await Promise.race([Promise.resolve().then(step), sleep(15_000)]).catch(() => undefined);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanup().finally(() => process.exit(130)));

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');

interface Build {
  label: string;
  dist: string;
  base: string;
  proc: ManagedProcess;
  viewer: string;
}

/** A controller of `dist` on its own database, every cluster created through its API, and a viewer token. */
async function prepareBuild(adminUrl: string, index: number, dist: string, groups: number[][]): Promise<Build> {
  const label = LABELS[index] ?? dist;
  const { base, proc } = await startBenchController({ dist, databaseUrl: await createDatabase(adminUrl, `vigil_rest_${index}`), name: `bench-rest-${index}` });
  cleanups.push(() => proc.stop('SIGTERM', 10_000));
  const t0 = performance.now();
  await inBatches(groups, CREATE_CONCURRENCY, async (group) => {
    await api(base, 'POST', '/api/v1/clusters', {
      name: clusterName(group),
      nodes: group.map((port) => ({ host: '127.0.0.1', port })),
      quorum: 2,
      downAfterMs: 5000,
      autoFailover: false,
    });
  });
  const viewer = (await api<{ token: string }>(base, 'POST', '/api/v1/tokens', { name: 'bench-rest-viewer', role: 'viewer' })).token;
  const last = clusterName(groups.at(-1)!);
  await waitFor(
    async () => (await fetch(`${base}/api/v1/clusters/${last}/master`, { headers: { authorization: `Bearer ${viewer}` } })).status === 200,
    60_000,
    `${label}: the last cluster's master`,
  );
  console.log(`${label} (${dist}): ${f(groups.length)} clusters created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { label, dist, base, proc, viewer };
}

const clusterName = (group: number[]) => `c${group[0]!}`;

interface Route {
  /** As in the OpenAPI document, e.g. `/api/v1/clusters/{name}`. */
  path: string;
  auth: boolean;
}

interface OpenApiOperation {
  parameters?: { name: string; in: string; required?: boolean }[];
  responses?: Record<string, { content?: Record<string, unknown> }>;
  'x-required-role'?: string;
}

/** Every GET a viewer may call that answers JSON and needs no other path parameter than a cluster name. */
async function readRoutes(build: Build): Promise<{ routes: Route[]; skipped: string[] }> {
  const res = await fetch(`${build.base}/api/openapi.json`);
  if (!res.ok) throw new Error(`GET /api/openapi.json: ${res.status}`);
  const doc = (await res.json()) as { paths: Record<string, { get?: OpenApiOperation }> };
  const routes: Route[] = [];
  const skipped: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    const op = ops.get;
    if (!op) continue;
    const role = op['x-required-role'] ?? 'admin';
    if (role !== 'viewer' && role !== 'any') continue;
    const streams = Object.values(op.responses ?? {}).some((r) => r.content?.['text/event-stream'] !== undefined);
    const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
    if (streams) skipped.push(`\`GET ${path}\` (a server-sent event stream)`);
    else if (pathParams.some((p) => p !== 'name')) skipped.push(`\`GET ${path}\` (keyed by ${pathParams.join(', ')}, none exists here)`);
    else routes.push({ path, auth: true });
  }
  // The master lookup first: the route with its own goal.
  routes.sort((a, b) => Number(b.path === MASTER_ROUTE) - Number(a.path === MASTER_ROUTE));
  return { routes: [{ path: '/health/live', auth: false }, ...routes], skipped };
}

function concretePaths(route: Route, names: string[]): string[] {
  return route.path.includes('{name}') ? names.map((n) => route.path.replace('{name}', encodeURIComponent(n))) : [route.path];
}

/** Every path of the run answers 200 before it is measured (wrk counts only statuses ≥ 400 as errors). */
async function checkAnswers(base: string, paths: string[], headers: Record<string, string>): Promise<void> {
  await inBatches(paths, 8, async (path) => {
    const res = await fetch(`${base}${path}`, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}, not 200`);
  });
}

interface Row extends WrkResult {
  route: string;
  build: string;
}

async function measure(route: string, build: string, base: string, paths: string[], headers: Record<string, string>, pid: number, db?: number): Promise<Row> {
  const options = { base, paths, headers, connections: CONNECTIONS, timeoutSeconds: TIMEOUT_SECONDS, serverPid: pid, databasePid: db };
  const warm = await runWrk({ ...options, seconds: WARMUP_SECONDS });
  const run = await runWrk({ ...options, seconds: SECONDS });
  const row: Row = { route, build, ...run, non2xx: run.non2xx + warm.non2xx, socketErrors: run.socketErrors + warm.socketErrors };
  console.log(
    `${route.padEnd(40)} ${build.padEnd(16)} ${f(row.rps).padStart(7)} req/s  p50 ${ms(row.p50Ms)} p90 ${ms(row.p90Ms)} p99 ${ms(row.p99Ms)} ms  ` +
      `server ${row.serverCores.toFixed(2)} db ${ms(row.databaseCores)} wrk ${row.wrkCores.toFixed(2)} machine ${row.machineCores.toFixed(2)} other ${otherLoad(row).toFixed(2)} cores  ${f(row.bytesPerResponse)} B  errors ${row.non2xx}+${row.socketErrors}`,
  );
  return row;
}

/** The machine's CPU that was neither the server, its database nor wrk: other work on a shared machine. */
const otherLoad = (r: Row) => Math.max(0, r.machineCores - r.serverCores - (Number.isFinite(r.databaseCores) ? r.databaseCores : 0) - r.wrkCores);

const met = (ok: boolean) => (ok ? 'met' : '**not met**');

function goalOf(route: string): number | undefined {
  if (route === MASTER_ROUTE) return GOALS.masterRps;
  return route.startsWith('/api/') ? GOALS.routeRps : undefined;
}

function table(rows: Row[], builds: number): string {
  const lines = [
    `| Route | ${builds > 1 ? 'Build | ' : ''}Requests/s (goal) | p50 / p90 / p99 (ms) | Server CPU (cores) | Server CPU per request (µs) | PostgreSQL CPU (cores) | wrk CPU (cores) | Machine CPU (cores) | Other load (cores) | Bytes per response | Errors |`,
    `|---|${builds > 1 ? '---|' : ''}---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const r of rows) {
    const goal = goalOf(r.route);
    const rps = goal === undefined ? f(r.rps) : `**${f(r.rps)}** (≥ ${f(goal)}: ${met(r.rps >= goal)})`;
    const p99 = goal === undefined ? ms(r.p99Ms) : `${ms(r.p99Ms)}${r.p99Ms > GOALS.p99Ms ? ` (**> ${GOALS.p99Ms}**)` : ''}`;
    lines.push(
      `| ${r.route.startsWith('/') ? `\`GET ${r.route}\`` : r.route} | ${builds > 1 ? `${r.build} | ` : ''}${rps} | ${ms(r.p50Ms)} / ${ms(r.p90Ms)} / ${p99} ` +
        `| ${r.serverCores.toFixed(2)} | ${f((r.serverCores / r.rps) * 1e6)} | ${f(r.databaseCores, 2)} | ${r.wrkCores.toFixed(2)} | ${r.machineCores.toFixed(2)} | ${otherLoad(r).toFixed(2)} | ${f(r.bytesPerResponse)} | ${r.non2xx + r.socketErrors} |`,
    );
  }
  return lines.join('\n');
}

/** One line per build: the goals, met or not. */
function goalLines(rows: Row[], builds: Build[]): string[] {
  return builds.map((b) => {
    const mine = rows.filter((r) => r.build === b.label && goalOf(r.route) !== undefined);
    const master = mine.find((r) => r.route === MASTER_ROUTE);
    const fast = mine.filter((r) => r.rps >= goalOf(r.route)!).length;
    const quick = mine.filter((r) => r.p99Ms <= GOALS.p99Ms).length;
    return (
      `${builds.length > 1 ? `${b.label}: ` : ''}master lookups ${master ? `${f(master.rps)}/s (goal ≥ ${f(GOALS.masterRps)}: ${met(master.rps >= GOALS.masterRps)})` : 'not measured'}; ` +
      `routes at their requests/s goal: ${fast} of ${mine.length}; p99 ≤ ${GOALS.p99Ms} ms: ${quick} of ${mine.length}.`
    );
  });
}

function render(rows: Row[], builds: Build[], skipped: string[], at: string, machine: string, load: string): string {
  const buildText = builds.map((b) => `${b.label} (\`${b.dist}\`)`).join(', ');
  return `## REST API read routes under wrk (\`npm run bench:rest\`)

Run ${at} on ${machine}; load average before the run ${load}; ${buildText}.

**Method.** One controller (\`LOG_LEVEL=warn\`, its own PostgreSQL database, no agents) holding ${f(CLUSTERS)} clusters
of 3 nodes (a master and two replicas of the benchmark node farm), created through the REST API. Each read route is
driven by \`wrk -t1 -c${CONNECTIONS} --timeout ${TIMEOUT_SECONDS}s --latency\` with a viewer bearer token and \`Accept-Encoding: gzip\`
(\`-H\`, as most HTTP clients send it: answers from 1 kB come back gzipped, and *Bytes per response* counts them so): ${WARMUP_SECONDS} s of warm-up (a run
of its own, discarded), then ${SECONDS} s measured. A route that takes a cluster name gets a random cluster per request
(\`scripts/bench/wrk-paths.lua\`, the requests formatted once). The routes are the GETs of the controller's own
OpenAPI document that a viewer token may call, with their default paging (\`GET /clusters\`: 100 clusters a page); left out: ${skipped.length > 0 ? skipped.join('; ') : 'none'}.
\`/health/live\` (no auth) and a bare node:http server answering the master lookup's body and headers
(\`scripts/bench/http-baseline-server.ts\`, through the same wrk script and names) are the floor of the controller's
pipeline and the ceiling of wrk on this machine. Every path is checked to answer 200 before it is measured; *Errors*
is wrk's statuses ≥ 400 and socket errors over warm-up and run (a run with any is not reported). wrk and the server
share the machine's 2 cores: *Server CPU* from \`/proc/<pid>/stat\`, *PostgreSQL CPU* (the postmaster and its
backends) likewise, *wrk CPU* from the shell's \`times\`, *Machine CPU* (every process) from \`/proc/stat\`, all over
the measured run; *Other load* is the machine's less those three. The controller remembers a verified token for
30 s; a run that spans an expiry includes one re-verification (a PostgreSQL lookup and a scrypt), which the
requests then in flight wait for. Goals: master lookups ≥ ${f(GOALS.masterRps)}/s, every read route ≥ ${f(GOALS.routeRps)}/s, p99 ≤ ${GOALS.p99Ms} ms
at ${CONNECTIONS} connections.
${builds.length > 1 ? "\nEach route is measured on every build back to back, before the next route; the other builds' controllers stay up, idle.\n" : ''}
${table(rows, builds.length)}

${goalLines(rows, builds).join('\n')}

Other load (the machine's CPU less the server's, PostgreSQL's and wrk's) averaged ${(rows.reduce((a, r) => a + otherLoad(r), 0) / rows.length).toFixed(2)} cores over the runs
(at most ${Math.max(...rows.map(otherLoad)).toFixed(2)}): where it is high, the server had less than the core it would otherwise get.
`;
}

async function main(): Promise<void> {
  binary('wrk', 'WRK_BIN', 'wrk');
  const at = new Date().toISOString();
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');
  console.log(`bench:rest on ${machine}, load ${load}; builds: ${DISTS.join(', ')}`);

  let adminUrl = process.env['BENCH_DATABASE_URL'];
  if (!adminUrl) {
    const pg = await startPostgres();
    cleanups.push(() => pg.stop());
    adminUrl = pg.adminUrl;
    databasePid = postgresPid(pg.port);
  }
  const farm = startNodeChild('dist/scripts/bench/node-farm-process.js', [String(CLUSTERS), '2']);
  cleanups.push(() => farm.stop('SIGTERM', 2000));
  const groups = (await nextMessage<{ groups: number[][] }>(farm, 'ready')).groups;
  const names = groups.map(clusterName);
  const builds: Build[] = [];
  for (const [i, dist] of DISTS.entries()) builds.push(await prepareBuild(adminUrl, i, dist, groups));

  const { routes: all, skipped } = await readRoutes(builds[0]!);
  const routes = ROUTE_FILTER ? all.filter((r) => ROUTE_FILTER.some((s) => r.path.includes(s))) : all;
  console.log(`routes: ${routes.map((r) => r.path).join(', ')}${skipped.length > 0 ? `; left out: ${skipped.join('; ')}` : ''}`);

  const rows: Row[] = [];
  const baseline = startNodeChild('dist/scripts/bench/http-baseline-server.js', []);
  cleanups.push(() => baseline.stop('SIGTERM', 2000));
  const { port } = await nextMessage<{ port: number }>(baseline, 'ready');
  const masterPaths = concretePaths({ path: MASTER_ROUTE, auth: true }, names);
  rows.push(
    await measure('bare node:http server (wrk ceiling)', '', `http://127.0.0.1:${port}`, masterPaths, { 'Accept-Encoding': 'gzip' }, baseline.child.pid!),
  );
  await baseline.stop('SIGTERM', 2000);

  for (const route of routes) {
    const paths = concretePaths(route, names);
    for (const build of builds) {
      // As most HTTP clients do (Go's, Python's, browsers): answers from 1 kB come back compressed.
      const headers: Record<string, string> = { 'Accept-Encoding': 'gzip', ...(route.auth ? { Authorization: `Bearer ${build.viewer}` } : {}) };
      await checkAnswers(build.base, paths, headers);
      rows.push(await measure(route.path, build.label, build.base, paths, headers, build.proc.child.pid!, databasePid));
    }
  }

  const result = table(rows, builds.length);
  console.log(`\n${result}\n\n${goalLines(rows, builds).join('\n')}\n`);
  const errors = rows.filter((r) => r.non2xx + r.socketErrors > 0);
  if (errors.length > 0) {
    console.error(`error answers on ${errors.map((r) => `${r.route} (${r.build})`).join(', ')}: nothing written`);
    process.exitCode = 1;
    return;
  }
  const partial = ROUTE_FILTER !== undefined || SECONDS !== 10 || CLUSTERS !== 1000;
  if (partial && option('out') === undefined) {
    console.log(`${OUT} not updated (a partial run: pass --out to write it)`);
    return;
  }
  writeBenchmarkSection('bench:rest', render(rows, builds, skipped, at, machine, load), OUT);
  console.log(`${OUT} updated (section bench:rest)`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => void cleanup());
