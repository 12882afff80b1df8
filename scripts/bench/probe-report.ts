import type { WindowResult } from './probe-window.js';

/** What `bench:probe` measured: real redis-servers watched by Vigil and by Sentinel, then the node farm at scale. */
export interface ProbeResult {
  at: string;
  machine: string;
  intervalMs: number;
  downAfterMs: number;
  warmupS: number;
  real?: RealRun;
  farm: FarmRow[];
}

export interface RealRun {
  nodes: number;
  startS: number;
  /** The redis-servers alone, before anything watches them. */
  idle: WindowResult;
  /** The agent (and the controller taking its reports) watching them, before Sentinel starts. */
  agentOnly: WindowResult;
  /** Both watching them: the comparison. */
  both: WindowResult;
  /** Nodes `ok` in the agent's view / masters fine in Sentinel's, before and after the measured window. */
  agentOk: [number, number];
  sentinelOk: [number, number];
  /** State changes during the measured window (none expected: every node stays up). */
  vigilTransitions: number;
  sentinelSdowns: number;
  agentLagMs: number;
  /** Node states the agent reported per second in the agent-only and the compared window (N at full rate). */
  agentProbesPerS: [number, number];
}

export interface FarmRow {
  nodes: number;
  clusters: number;
  window: WindowResult;
  agentLagMs: number;
  probesPerS: number;
}

const f = (n: number | undefined, d = 3) => (n !== undefined && Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const int = (n: number) => n.toLocaleString('en');
const per1000 = (cores: number | undefined, nodes: number) => (cores ?? NaN) / (nodes / 1000);

export function ratio(r: RealRun): number {
  return (r.both.cores['agent'] ?? NaN) / (r.both.cores['sentinel'] ?? NaN);
}

/** The load each watcher adds to the nodes, by difference between the windows (each one's own share). */
function nodeLoad(r: RealRun): { idle: number; agent: number; sentinel: number } {
  const idle = r.idle.cores['nodes']!;
  const withAgent = r.agentOnly.cores['nodes']!;
  return { idle, agent: withAgent - idle, sentinel: r.both.cores['nodes']! - withAgent };
}

export function printResult(r: ProbeResult): void {
  if (r.real) {
    const x = r.real;
    const b = x.both;
    console.log(`\n${int(x.nodes)} real redis-servers, ${f(b.seconds, 0)} s window (machine busy ${f(b.machineCores, 2)} cores, load ${f(b.loadAvg, 1)}):`);
    console.log('  watcher            cores    per 1,000 nodes   RSS MiB');
    const row = (label: string, key: string) =>
      console.log(
        `  ${label.padEnd(18)} ${f(b.cores[key]).padStart(6)}   ${f(per1000(b.cores[key], x.nodes)).padStart(15)}   ${f(b.rssMiB[key], 0).padStart(7)}`,
      );
    row('Vigil agent', 'agent');
    row('Redis Sentinel', 'sentinel');
    row('Vigil controller', 'controller');
    console.log(`  agent ÷ Sentinel: ${f(ratio(x), 2)} (goal ≤ 1); agent alone before Sentinel started: ${f(x.agentOnly.cores['agent'])} cores`);
    const load = nodeLoad(x);
    console.log(
      `  redis-servers: idle ${f(load.idle)} cores, with the agent ${f(x.agentOnly.cores['nodes'])}, with both ${f(b.cores['nodes'])} (agent adds ${f(load.agent)}, Sentinel ${f(load.sentinel)}); PSS ${f(b.rssMiB['nodes'], 0)} MiB in all`,
    );
    console.log(
      `  checks: agent ok ${x.agentOk.join(' → ')}, Sentinel ok ${x.sentinelOk.join(' → ')} of ${x.nodes}; in the window: ${x.vigilTransitions} Vigil state changes, ${x.sentinelSdowns} Sentinel +sdown; agent probes/s ${f(x.agentProbesPerS[0], 0)} / ${f(x.agentProbesPerS[1], 0)}, tick lag ${f(x.agentLagMs, 0)} ms`,
    );
  }
  for (const row of r.farm) {
    const w = row.window;
    console.log(
      `node farm, ${int(row.nodes)} nodes: agent ${f(w.cores['agent'])} cores = ${f(per1000(w.cores['agent'], row.nodes))} per 1,000 nodes, RSS ${f(w.rssMiB['agent'], 0)} MiB, ${f(row.probesPerS, 0)} probes/s, tick lag ${f(row.agentLagMs, 0)} ms; controller ${f(w.cores['controller'])}, farm ${f(w.cores['farm'])} cores`,
    );
  }
}

function realSection(r: ProbeResult, x: RealRun): string {
  const b = x.both;
  const load = nodeLoad(x);
  const q = ratio(x);
  return `**Real redis-servers.** ${int(x.nodes)} \`redis-server\` processes (Redis 7, standalone masters, \`--hz 1 --save '' --appendonly no\`,
started in batches of 50 in ${f(x.startS, 0)} s). Vigil: one controller on a fresh PostgreSQL database with ${int(x.nodes)} one-node clusters
(quorum 1, down-after ${r.downAfterMs} ms, created through the REST API) and **one probe agent** at \`PROBE_INTERVAL_MS=${r.intervalMs}\`
(PING every tick, \`INFO replication\` every second, one report per tick). Sentinel: **one** \`redis-server --sentinel\` monitoring the
same ${int(x.nodes)} masters (\`sentinel monitor m<i> 127.0.0.1 <port> 1\`, \`down-after-milliseconds ${r.downAfterMs}\`), at its
defaults: PING every second, \`INFO\` every 10 s, a hello \`PUBLISH\` every 2 s on each master (with the subscription that receives
it: two connections per master). Three windows, CPU from \`/proc/<pid>/stat\` (user + system) over each, RSS its peak (sampled every 2 s):
the redis-servers alone (${f(x.idle.seconds, 0)} s, before anything connects to them); the agent alone, ${r.warmupS} s after it saw every
node up (${f(x.agentOnly.seconds, 0)} s); then Sentinel started, and ${r.warmupS} s after it reported every master up, **both watching
the same nodes at once (${f(b.seconds, 0)} s)**: the comparison. Before and after that window, every node is \`ok\` in the agent's view
(\`GET /clusters/{name}/health\`) and every master's flags are just \`master\` in \`SENTINEL MASTERS\`.

| Watcher of ${int(x.nodes)} masters | CPU (cores) | Per 1,000 nodes | RSS (peak) |
| --- | ---: | ---: | ---: |
| Vigil probe agent (1 process) | ${f(b.cores['agent'])} | **${f(per1000(b.cores['agent'], x.nodes))}** | ${f(b.rssMiB['agent'], 0)} MiB |
| Redis Sentinel (1 process) | ${f(b.cores['sentinel'])} | **${f(per1000(b.cores['sentinel'], x.nodes))}** | ${f(b.rssMiB['sentinel'], 0)} MiB |
| Vigil controller (takes the agent's reports, decides) | ${f(b.cores['controller'])} | ${f(per1000(b.cores['controller'], x.nodes))} | ${f(b.rssMiB['controller'], 0)} MiB |

**Agent ÷ Sentinel: ${f(q, 2)}** (goal ≤ 1: ${q <= 1 ? 'met' : 'not met'}). Agent and controller together ÷ Sentinel (which probes and decides in one process):
${f(((b.cores['agent'] ?? NaN) + (b.cores['controller'] ?? NaN)) / (b.cores['sentinel'] ?? NaN), 2)}. The agent alone in the window before Sentinel started: ${f(x.agentOnly.cores['agent'])} cores.

| The ${int(x.nodes)} redis-servers | CPU (cores, all together) | Memory (PSS, summed) |
| --- | ---: | ---: |
| Idle, nothing connected | ${f(x.idle.cores['nodes'])} | ${f(x.idle.rssMiB['nodes'], 0)} MiB |
| Watched by the agent | ${f(x.agentOnly.cores['nodes'])} | ${f(x.agentOnly.rssMiB['nodes'], 0)} MiB |
| Watched by the agent and Sentinel | ${f(b.cores['nodes'])} | ${f(b.rssMiB['nodes'], 0)} MiB |

The load each watcher puts on the nodes, by difference between consecutive windows: the agent ${f(load.agent)} cores, Sentinel
${f(load.sentinel)} cores (for ${int(x.nodes)} nodes). In the measured window: ${x.vigilTransitions} node state changes at the controller,
${x.sentinelSdowns} \`+sdown\` from Sentinel; agents ok ${x.agentOk.join(' / ')}, Sentinel's masters ok ${x.sentinelOk.join(' / ')}
(before / after). Node states the agent reported per second (${int(x.nodes)} at full rate): ${f(x.agentProbesPerS[0], 0)} alone,
${f(x.agentProbesPerS[1], 0)} in the compared window; its reported tick lag at the end: ${f(x.agentLagMs, 0)} ms. The whole machine was busy ${f(b.machineCores, 2)}
cores on average during the window (load average ${f(b.loadAvg, 1)}), other work included.`;
}

function farmSection(r: ProbeResult): string {
  const rows = r.farm
    .map((row) => {
      const w = row.window;
      return `| ${int(row.nodes)} | ${int(row.clusters)} | ${f(w.cores['agent'])} | **${f(per1000(w.cores['agent'], row.nodes))}** | ${f(w.rssMiB['agent'], 0)} MiB | ${f(row.probesPerS, 0)} | ${f(row.agentLagMs, 0)} ms | ${f(w.cores['controller'])} | ${f(w.cores['farm'])} |`;
    })
    .join('\n');
  const s = r.farm[0]?.window.seconds;
  return `**At scale, agent alone.** The node farm (\`scripts/bench/node-farm.ts\`: one process serving thousands of fake nodes, one port
each, answering PING and INFO like a master or a replica) in clusters of 3 (a master and two replicas), a fresh database and controller per
size, one agent at ${r.intervalMs} ms; ${f(s, 0)} s window, ${r.warmupS} s after every node was up.

| Nodes | Clusters | Agent CPU (cores) | Per 1,000 nodes | Agent RSS (peak) | Node states reported/s | Agent tick lag (end) | Controller CPU | Farm CPU |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows}`;
}

export function renderResult(r: ProbeResult): string {
  const parts = [
    `## Probing cost: one agent against one Sentinel (\`npm run bench:probe\`)`,
    `Run ${r.at} on ${r.machine}. CPU seconds per process are compared, not wall time: other work shared the machine.`,
  ];
  if (r.real) parts.push(realSection(r, r.real));
  if (r.farm.length > 0) parts.push(farmSection(r));
  return `${parts.join('\n\n')}\n`;
}
