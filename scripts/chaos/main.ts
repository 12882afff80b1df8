/**
 * `npm run chaos`: the fault-injection suite. Builds the lab (network namespaces, removed on every exit
 * and by a watchdog if this process is killed), runs the scenarios from the `app` host, then prints the
 * table and, last, one JSON line `{"summary": …}`; with the report on, writes the table and the outage
 * plot into BENCHMARKS.md and docs/chaos-outage.svg.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../libs/chaos/src/lab.js';
import { lostByPath, renderOutageSvg, renderPathTable, renderTable, summarize } from '../../libs/chaos/src/report.js';
import type { ScenarioSummary, TrialResult } from '../../libs/chaos/src/types.js';
import { writeBenchmarkSection } from '../bench/report.js';
import { parseOptions, type ChaosOptions } from './options.js';
import { SCENARIOS } from './scenarios.js';
import { HOSTS } from './services.js';

export interface Checks {
  minorityTrials: number;
  minorityFalseFailovers: number;
  minoritySplitBrainMs: number;
  switchoverLost: number;
  missedFailovers: number;
  /** Crash and partition scenarios where Vigil's Sentinel-protocol clients lost more time's worth of acknowledged writes than Sentinel's in the same run. */
  lostMoreThanSentinel: string[];
  failedTrials: number;
}

/** Scenarios that fail the master over by crash or partition: Vigil's losses there are compared with Sentinel's. */
const LOSSY = ['crash-master', 'pause-master-long', 'isolate-master-zone', 'master-from-watchers'];
/** The client paths both systems serve (the Sentinel protocol); DNS and REST exist only for Vigil. */
const SHARED_PATHS = ['sentinel-ioredis', 'sentinel-node-redis'];

export function checks(results: TrialResult[]): Checks {
  const vigil = results.filter((r) => r.system === 'vigil');
  const minority = new Set(SCENARIOS.filter((s) => s.minority).map((s) => s.name));
  const minorityTrials = vigil.filter((r) => minority.has(r.scenario) && !r.error);
  const rows = lostByPath(results).filter((r) => SHARED_PATHS.includes(r.path));
  const lostMore: string[] = [];
  for (const scenario of LOSSY) {
    // Time's worth of acknowledged writes lost per trial and client, over the clients both systems serve:
    // unlike counts or shares it does not depend on how fast each system's clients wrote.
    const perTrial = (system: string) => {
      const mine = rows.filter((r) => r.scenario === scenario && r.system === system);
      const trials = mine.reduce((a, r) => a + r.trials, 0);
      return trials ? mine.reduce((a, r) => a + r.lostMs, 0) / trials : undefined;
    };
    const v = perTrial('vigil');
    const s = perTrial('sentinel');
    if (v !== undefined && s !== undefined && v > s) lostMore.push(`${scenario}: ${v.toFixed(0)} ms > ${s.toFixed(0)} ms`);
  }
  return {
    minorityTrials: minorityTrials.length,
    minorityFalseFailovers: minorityTrials.filter((r) => r.falseFailover).length,
    minoritySplitBrainMs: minorityTrials.reduce((a, r) => a + r.splitBrainMs, 0),
    switchoverLost: vigil.filter((r) => r.scenario === 'switchover').reduce((a, r) => a + r.lost, 0),
    missedFailovers: vigil.filter((r) => r.missedFailover).length,
    lostMoreThanSentinel: lostMore,
    failedTrials: vigil.filter((r) => r.error).length,
  };
}

function render(o: ChaosOptions, argv: string[], results: TrialResult[], summaries: ScenarioSummary[], c: Checks, startedAt: Date, minutes: number): string {
  return `## Fault injection: Vigil and Redis Sentinel (\`npm run chaos\`)

Run ${startedAt.toISOString()} (${minutes.toFixed(0)} min) on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}:
\`npm run chaos -- ${argv.join(' ')}\` (seed ${o.seed}, down-after ${o.downAfterMs} ms, agents probing every ${o.probeIntervalMs} ms).
Rerun one trial with \`--seed ${o.seed} --scenario NAME\`: each trial's seed is derived from the run's seed and the trial's name and number.

**Method.** Every process is on its own host, a Linux network namespace bridged to the others: zones a, b and c each
hold a redis-server, a Vigil probe agent and a Redis Sentinel; controllers run in zones a and b, PostgreSQL in zone c;
the clients and the observer run on an application host that no scenario cuts. Faults are real: nftables DROP rules
(and \`numgen\` packet loss) inside the namespaces, SIGSTOP/SIGKILL of processes. Each trial starts a fresh master
(zone a) and two replicas; Vigil gets quorum 2 of its 3 agents and two controllers, Sentinel 3 sentinels with quorum 2,
the same down-after. The workload writes unique keys one at a time through every path a user takes: Sentinel
protocol with ioredis and node-redis (both systems), and for Vigil also its DNS name and \`GET /clusters/{name}/master\`.
After the fault the network is healed, paused processes resumed, and the trial waits until one master is published
and followed by both replicas; every acknowledged key is then read back from it. An observer asks every node \`ROLE\`
every 50 ms. *Failovers*: promotions the observer saw. *False*: a failover where the master was alive and the scenario
expects none. *Lost*: acknowledged keys missing at the end (the bound is a one-sided 95 % Clopper–Pearson upper bound
on the fraction lost). *Indeterminate*: writes that timed out. *Deposed-master acks*: writes a node that had been master
acknowledged after another had been promoted (ioredis, DNS and REST clients, which expose the node they wrote to). *Split brain*: time two
nodes answered \`ROLE\` master. *Outage*: per client, the longest time without an acknowledged write from the fault on.

${renderTable(summaries)}

![Write outage per scenario](docs/chaos-outage.svg)

**Lost writes by client path** in the scenarios that fail the master over. Counts and shares depend on how fast
each client wrote (Vigil's trials run four clients on the same two cores, Sentinel's two, and trials last
different times), so the systems are compared on the last column: how much time's worth of acknowledged writes
was lost (10 ms intervals containing an acknowledged write that is missing at the end), per trial. The
Sentinel-protocol clients (ioredis, node-redis) are the workload both systems serve; DNS and REST clients exist
only for Vigil and, with nothing pushed to them, write to an isolated old master until it is demoted.

${renderPathTable(lostByPath(results.filter((r) => [...LOSSY, 'restart-master-empty', 'switchover'].includes(r.scenario))))}

**Checks (Vigil).** Minority partitions and short pauses: ${c.minorityTrials} trials, ${c.minorityFalseFailovers} false failovers,
${c.minoritySplitBrainMs} ms of split brain. Switchovers: ${c.switchoverLost} acknowledged writes lost. Missed failovers: ${c.missedFailovers}.
Crash and partition scenarios where Vigil's Sentinel-protocol clients lost more time's worth of acknowledged writes than Sentinel's: ${c.lostMoreThanSentinel.length ? c.lostMoreThanSentinel.join('; ') : 'none'}.
Trials that did not complete: ${c.failedTrials}.
`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const parsed = parseOptions(argv);
  if (parsed === 'list') {
    for (const s of SCENARIOS)
      console.log(`${s.name.padEnd(30)} expects ${s.expect.padEnd(12)} ${s.systems?.join(',') ?? 'vigil,sentinel'} (${s.trials} trials)`);
    return;
  }
  const o = parsed;
  if (process.getuid?.() !== 0) throw new Error('the chaos suite builds network namespaces and firewall rules: run it as root');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-chaos-'));
  o.resultsFile = join(dir, 'results.json');
  const startedAt = new Date();
  const lab = await Lab.create([...HOSTS]);
  const cleanup = () => {
    lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  console.log(`chaos: seed ${o.seed}, down-after ${o.downAfterMs} ms, systems ${o.systems.join(', ')}; lab ${lab.ns('app')} …`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('ip', ['netns', 'exec', lab.ns('app'), process.execPath, 'dist/scripts/chaos/in-lab.js'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CHAOS_LAB: JSON.stringify(lab.description), CHAOS_OPTIONS: JSON.stringify(o) },
    });
    child.on('exit', (c) => resolve(c));
  });
  let results: TrialResult[] = [];
  try {
    results = JSON.parse(readFileSync(o.resultsFile, 'utf8')) as TrialResult[];
  } catch {
    // the runner died before its first trial
  }
  const summaries = summarize(results);
  const c = checks(results);
  const minutes = (Date.now() - startedAt.getTime()) / 60_000;
  console.log(renderTable(summaries));
  if (o.report && code === 0) {
    writeFileSync('docs/chaos-outage.svg', renderOutageSvg(summaries, `Write outage per scenario (down-after ${o.downAfterMs} ms)`));
    writeBenchmarkSection('chaos', render(o, argv, results, summaries, c, startedAt, minutes));
    console.log('BENCHMARKS.md and docs/chaos-outage.svg updated');
  }
  console.log(
    JSON.stringify({ summary: { seed: o.seed, downAfterMs: o.downAfterMs, runnerExit: code, trials: results.length, checks: c, scenarios: summaries } }),
  );
  if (code !== 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
