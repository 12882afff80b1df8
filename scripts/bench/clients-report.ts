import { percentile } from './report.js';
import type { ClientTrial } from './clients-trial.js';
import { GIVE_UP_MS } from './clients-trial.js';

export interface ClientRunFacts {
  when: string;
  machine: string;
  node: string;
  trials: number;
  downAfterMs: number;
  probeIntervalMs: number;
}

/** `median / max` of a client's outages (ms); a stuck trial makes the max `> GIVE_UP_MS`. */
function cell(values: (number | null)[]): string {
  const done = values.filter((v): v is number => v !== null);
  const stuck = values.length - done.length;
  if (done.length === 0) return `stuck (${stuck}/${values.length})`;
  const max = stuck > 0 ? `> ${GIVE_UP_MS}` : Math.max(...done).toFixed(0);
  // A stuck trial counts as the slowest for the median.
  const median = percentile([...done, ...Array<number>(stuck).fill(Number.POSITIVE_INFINITY)], 50);
  return `${Number.isFinite(median) ? median.toFixed(0) : `> ${GIVE_UP_MS}`} / ${max}`;
}

/** The `clients` section of BENCHMARKS.md: one row per client, Vigil and Sentinel side by side. */
export function renderClientTable(trials: ClientTrial[], clients: readonly string[], f: ClientRunFacts): string {
  const of = (system: ClientTrial['system'], client: string) =>
    trials.filter((t) => t.system === system).map((t) => t.outages.find((o) => o.client === client)?.outageMs ?? null);
  const each = (values: (number | null)[]) => values.map((v) => (v === null ? 'stuck' : String(v))).join(', ');
  const rows = clients.map((c) => `| ${c} | ${cell(of('vigil', c))} | ${cell(of('sentinel', c))} | ${each(of('vigil', c))} | ${each(of('sentinel', c))} |`);
  return `## Sentinel clients through a master crash (\`npm run bench:clients\`)

Run ${f.when} on ${f.machine}, Node ${f.node}.

**Method.** ${f.trials} trials per system, alternating Vigil and Sentinel. Each trial: a fresh master and two
replicas (redis-server); every client below writes \`RPUSH\` one at a time, as fast as acknowledged, with its
**default options**, given only the Sentinel endpoint(s) and the master name; then the master is crashed
(SIGKILL). *Outage*: from the kill to the acknowledgement of the client's first write sent after the master process
had exited (a reply already on its way does not count; a client that had not written again after ${GIVE_UP_MS / 1000} s is *stuck*). Vigil: one controller, its Sentinel-compatible
endpoint, three agents probing every ${f.probeIntervalMs} ms, quorum 2. Sentinel: three \`redis-server --sentinel\`,
quorum 2, the clients given all three. Down-after ${f.downAfterMs} ms on both. node-redis 4 has no Sentinel
client: it asks the endpoint \`SENTINEL get-master-addr-by-name\` and reconnects to the answer when its
connection breaks or a write fails (\`libs/testing/src/sentinel-writers.ts\`). redis-py is Debian's
python3-redis (4.3). Clients run concurrently, so they share the machine's load.

| client | Vigil median / max (ms) | Sentinel median / max (ms) | Vigil per trial (ms) | Sentinel per trial (ms) |
|---|---|---|---|---|
${rows.join('\n')}
`;
}
