/** The summary and the BENCHMARKS.md section of `bench:dns`. */
import type { Comparison } from './dns-compare.js';
import type { DnsperfStats } from './dnsperf.js';
import { percentile } from './report.js';

export interface Target {
  key: string;
  kind: 'vigil' | 'library' | 'bind' | 'node';
  label: string;
  port: number;
  pid: number;
}

export interface ThroughputRun {
  target: string;
  round: number;
  stats: DnsperfStats;
  serverCores: number;
  machineCores: number;
  /** The machine's CPU not used by the benchmark's own processes (the machine is shared). */
  otherCores: number;
}

export interface LatencyRun {
  target: string;
  /** The rate asked of dnsperf (`-Q`). */
  rate: number;
  qps: number;
  /** Answered queries. */
  responses: number;
  /** Queries that timed out. */
  lost: number;
  /** Responses whose rcode is not the expected one (NOERROR for a name that exists, else NXDOMAIN). */
  wrong: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export interface DnsReport {
  at: string;
  machine: string;
  seconds: number;
  bindVersion: string;
  named: string;
  clusters: number;
  lines: number;
  missShare: number;
  settings: {
    seconds: number;
    warmupSeconds: number;
    runs: number;
    clients: number;
    outstanding: number;
    latencySeconds: number;
    bindThreads: number;
    zone: string;
  };
  targets: Target[];
  comparisons: (Comparison & { target: string })[];
  throughput: ThroughputRun[];
  latency: LatencyRun[];
}

export const GOAL_RATIO = 1.0;

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const ms = (n: number) => (n >= 10 ? n.toFixed(1) : n.toFixed(3));

/** The median run of a target by queries/s, and every run's queries/s in round order. */
export function medianRun(runs: ThroughputRun[], key: string): ThroughputRun & { all: number[] } {
  const mine = runs.filter((r) => r.target === key);
  const sorted = [...mine].sort((a, b) => a.stats.qps - b.stats.qps);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, all: mine.map((r) => r.stats.qps) };
}

/** Median over a target's runs of the server's CPU time per query, in µs. */
export function cpuPerQuery(runs: ThroughputRun[], key: string): number {
  return percentile(
    runs.filter((r) => r.target === key).map((r) => (r.serverCores / r.stats.qps) * 1e6),
    50,
  );
}

/** A measured run's rcodes: only NOERROR and NXDOMAIN, NXDOMAIN close to the file's share of misses. */
export function rcodesOk(run: ThroughputRun, missShare: number): boolean {
  const { NOERROR = 0, NXDOMAIN = 0, ...other } = run.stats.rcodes;
  const total = NOERROR + NXDOMAIN;
  return Object.keys(other).length === 0 && total > 0 && Math.abs(NXDOMAIN / total - missShare) < 0.02;
}

export function renderDnsReport(r: DnsReport): { console: string; markdown: string } {
  const s = r.settings;
  const bind = medianRun(r.throughput, 'bind');
  const rows = r.targets.map((t) => {
    const m = medianRun(r.throughput, t.key);
    const x = m.stats;
    const ratio = m.stats.qps / bind.stats.qps;
    const codes = Object.entries(x.rcodes)
      .map(([c, n]) => `${c} ${f(n)}`)
      .join(', ');
    const checked =
      t.kind === 'node'
        ? 'not checked'
        : r.throughput.filter((y) => y.target === t.key).every((y) => rcodesOk(y, r.missShare))
          ? 'as expected'
          : '**unexpected**';
    const qps = t.kind === 'vigil' ? `**${f(x.qps)}**` : f(x.qps);
    const ratioText = t.kind === 'vigil' ? `**${ratio.toFixed(2)}** (${ratio >= GOAL_RATIO ? 'met' : '**not met**'})` : ratio.toFixed(2);
    return (
      `| ${t.label} | ${qps} (${m.all.map((q) => f(q)).join(', ')}) | ${ratioText} | ${ms(x.avgMs)} / ${ms(x.minMs)} / ${ms(x.maxMs)} | ${ms(x.stddevMs)} ` +
      `| ${f(x.lost)} | ${codes} (${checked}) | ${m.serverCores.toFixed(2)} | ${f((m.serverCores / x.qps) * 1e6, 1)} | ${m.machineCores.toFixed(2)} (${m.otherCores.toFixed(2)}) |`
    );
  });
  const rate = r.latency[0]?.rate ?? NaN;
  const latencyRows = r.latency.map((l) => {
    const t = r.targets.find((x) => x.key === l.target)!;
    const wrong = t.kind === 'node' ? 'not checked' : String(l.wrong);
    return `| ${t.label} | ${f(l.qps)} | ${ms(l.p50Ms)} / ${ms(l.p90Ms)} / ${ms(l.p99Ms)} / ${ms(l.p999Ms)} | ${ms(l.maxMs)} | ${f(l.responses)} | ${f(l.lost)} | ${wrong} |`;
  });
  const vigils = r.targets.filter((t) => t.kind === 'vigil');
  const bindCpu = cpuPerQuery(r.throughput, 'bind');
  const ratios = vigils.map((t) => {
    const ratio = medianRun(r.throughput, t.key).stats.qps / bind.stats.qps;
    const cpu = cpuPerQuery(r.throughput, t.key);
    return (
      `${t.label} / BIND9, queries/s: **${ratio.toFixed(2)}** (goal ≥ ${GOAL_RATIO.toFixed(1)}, ${ratio >= GOAL_RATIO ? 'met' : '**not met**'}); ` +
      `server CPU per query, median of the runs: ${f(cpu, 1)} µs against ${f(bindCpu, 1)} (${(cpu / bindCpu).toFixed(2)} × BIND9's)`
    );
  });
  const checks = r.comparisons.map((c) => {
    const t = r.targets.find((x) => x.key === c.target)!;
    return `${t.label} and BIND9 were asked each of the ${f(c.questions)} distinct questions of the file once before measuring: ${c.differing} replies differ (rcode, AA, every record of every section with its TTL; the SOA serial aside: each server keeps its own); ${c.wrong[0]} / ${c.wrong[1]} not as expected (hits NOERROR with an answer, misses NXDOMAIN).`;
  });

  const table = [
    `| Server | Queries/s: median (runs) | ÷ BIND9 | Latency avg / min / max (ms) | Latency stddev (ms) | Lost | Response codes (median run) | Server CPU (cores) | Server CPU per query (µs) | Machine CPU (other load) (cores) |`,
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  const latencyTable = [
    `| Server | Achieved queries/s | p50 / p90 / p99 / p99.9 (ms) | Max (ms) | Responses | Lost | Wrong rcodes |`,
    '|---|---|---|---|---|---|---|',
    ...latencyRows,
  ].join('\n');

  const markdown = `## DNS responder against BIND9 (\`npm run bench:dns\`)

Run ${r.at} on ${r.machine}; ${f(r.seconds)} s in all. ${r.bindVersion}; dnsperf 2.10.

**Method.** Everything runs on this machine, each server and dnsperf a process of its own, so dnsperf (one sending
and one receiving thread) shares the two cores with the server it measures. Vigil: one controller (\`DNS_PORT\`,
\`DNS_ZONE=${s.zone}\`, \`LOG_LEVEL=warn\`, no agents) holding ${f(r.clusters)} single-node clusters of the benchmark node farm,
created through the REST API. BIND9: \`named -g -4 -n <threads>\` (\`recursion no\`, no rndc, everything in a temp dir) serving a
zone file with Vigil's SOA (serial included) and NS, the nameserver's address, and for each cluster the A record of
\`<cluster>.${s.zone}\` and the SRV record \`_redis._tcp.<cluster>.${s.zone}\` (0 0 port, pointing at the A name) —
what Vigil publishes for those clusters; measured with ${s.bindThreads} worker threads (its default on this machine:
one per core, the ratio is taken against it) and with 1. Two references: libs/dns-server's \`DnsServer\` alone in a
process of its own serving the same zone (\`scripts/bench/dns-server-alone.ts\`: the responder without the controller
around it), and a bare node:dgram server that sends each query back with QR set (\`scripts/bench/udp-baseline-server.ts\`:
what Node's UDP sockets allow here before any DNS work).

The query file: ${f(r.lines)} lines, A \`<cluster>.${s.zone}\` and SRV \`_redis._tcp.<cluster>.${s.zone}\` of every
cluster ${f((r.lines * (1 - r.missShare)) / (2 * r.clusters))} times each (hits), plus ${(r.missShare * 100).toFixed(0)} % names that do not exist in both forms
(\`absent-<i>\`, NXDOMAIN), shuffled with a fixed seed; no EDNS, RD set (dnsperf's queries). *Throughput*:
\`dnsperf -c ${s.clients} -q ${s.outstanding} -t 2\` with no rate limit, ${s.warmupSeconds} s of warm-up then \`-l ${s.seconds}\` measured, ${s.runs} rounds, the order
of the servers rotated each round; the median run by queries/s is shown with every run. Latency avg / min / max / stddev
are dnsperf's for that run (at saturation: mostly queueing in the ${s.outstanding} outstanding queries). *Server CPU*: from
\`/proc/<pid>/stat\` over the measured run (every thread of named); *Machine CPU*: all processes, from \`/proc/stat\`;
*other load*: the part of it not used by this benchmark's processes (the machine is shared).
*Percentiles*: dnsperf 2.10 has no latency histogram, so one more run per server at a fixed rate (\`-Q ${f(rate)}\`, half the
slower of Vigil and BIND9's median) with \`-v\`, which writes one line per response (rcode, name, type, latency) to a
file, for ${s.latencySeconds} s; those lines also check every response's rcode against the name asked.
*Correctness*: ${checks.join(' ')} In the measured runs only NOERROR and NXDOMAIN came back, NXDOMAIN within 2 points of
the file's ${(r.missShare * 100).toFixed(1)} % (*as expected* below).

**Throughput**, UDP, no rate limit

${table}

${ratios.join('.\n\n')}.

**Latency at a fixed rate** of ${f(rate)} queries/s, ${s.latencySeconds} s, per-response latencies from \`dnsperf -v\`

${latencyTable}
`;

  const consoleText = [
    `=== bench:dns (${r.machine}) ===`,
    ...r.targets.map((t) => {
      const m = medianRun(r.throughput, t.key);
      return `${t.label.padEnd(34)} ${f(m.stats.qps).padStart(8)} q/s (runs ${m.all.map((q) => f(q)).join(', ')}), avg ${ms(m.stats.avgMs)} ms, sd ${ms(m.stats.stddevMs)} ms, lost ${m.stats.lost}, server ${m.serverCores.toFixed(2)} cores (${f((m.serverCores / m.stats.qps) * 1e6, 1)} µs/query), machine ${m.machineCores.toFixed(2)}`;
    }),
    ...r.latency.map((l) => {
      const t = r.targets.find((x) => x.key === l.target)!;
      return `at ${f(l.rate)} q/s ${t.label.padEnd(28)} p50 ${ms(l.p50Ms)} / p90 ${ms(l.p90Ms)} / p99 ${ms(l.p99Ms)} / p99.9 ${ms(l.p999Ms)} ms, max ${ms(l.maxMs)}`;
    }),
    ...ratios.map((x) => x.replaceAll('**', '')),
  ].join('\n');
  return { console: consoleText, markdown };
}
