import type { SeriesSummary } from './analysis.js';
import type { Fault } from './faults.js';
import type { SoakOptions } from './options.js';
import type { Outcome } from './outcome.js';

export interface SoakResult {
  at: string;
  machine: string;
  commit: string;
  options: SoakOptions;
  measuredS: number;
  warmupS: number;
  restartWarmupS: number;
  clusterSettings: string;
  summaries: SeriesSummary[];
  faults: { fault: Fault; outcome: Outcome }[];
  /** Over the whole soak. */
  farmFailovers: number;
  farmOdowns: number;
  eventsByType: Record<string, number>;
  unexpectedExits: string[];
  webhooksReceived: number;
  /** Means over the soak of the shared machine's busy cores and 1-minute load average. */
  load: { busyCores: number; load1: number; cores: number };
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const signed = (n: number, d = 1) => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(d)}` : 'n/a');

/** Growth per hour the soak calls flat, per kind of series. */
export function flatLimit(key: string, max: number): number {
  if (key.endsWith('.rss_mib')) return Math.max(10, 0.05 * max);
  if (key.endsWith('.fds')) return 5;
  if (key.startsWith('pg.conn.')) return 1;
  return Infinity;
}

export function verdict(s: SeriesSummary): string {
  if (!Number.isFinite(s.perHour)) return 'n/a';
  const limit = flatLimit(s.key, s.max);
  if (limit === Infinity) return 'grows by design';
  return Math.abs(s.perHour) <= limit ? 'flat' : s.perHour > 0 ? '**grows**' : 'falls';
}

const LABELS: Record<string, string> = {
  'pg.conn.total': 'PostgreSQL connections (all)',
  'pg.conn.controller': '— TypeORM pools (`vigil-controller`)',
  'pg.conn.jobs': '— BullMQ (`vigil-jobs` and one per queue)',
  'pg.conn.listen': '— LISTEN (`vigil-listen-*`, `vigil-events-*`)',
  'pg.conn.other': '— other',
  'events.rows': '`events` rows',
  'events.mib': '`events` size (MiB, with indexes)',
  'webhook_deliveries.rows': '`webhook_deliveries` rows',
  'webhook_deliveries.mib': '`webhook_deliveries` size (MiB)',
  'bullmq.mib': 'BullMQ schema size (MiB)',
  'database.mib': 'Database size (MiB)',
};

function label(key: string): string {
  const m = /^(.*)\.(rss_mib|fds)$/.exec(key);
  if (m) return `${m[1]} ${m[2] === 'rss_mib' ? 'RSS (MiB)' : 'open fds'}`;
  return LABELS[key] ?? key;
}

export function renderSection(r: SoakResult): string {
  const o = r.options;
  const minutes = r.measuredS / 60;
  const events = r.summaries.find((s) => s.key === 'events.rows');
  const eventsMib = r.summaries.find((s) => s.key === 'events.mib');
  const okFaults = r.faults.filter((x) => x.outcome.ok).length;
  const nonFlat = r.summaries.filter((s) => verdict(s) === '**grows**');
  const topTypes = Object.entries(r.eventsByType)
    .slice(0, 8)
    .map(([t, n]) => `\`${t}\` ${n}`)
    .join(', ');
  const rows = r.summaries.map(
    (s) =>
      `| ${label(s.key)} | ${f(s.first, s.key.includes('mib') ? 1 : 0)} | ${f(s.last, s.key.includes('mib') ? 1 : 0)} | ${f(s.max, s.key.includes('mib') ? 1 : 0)} | ${signed(s.perHour, s.key.endsWith('.mib') && !s.key.includes('rss') ? 2 : 1)} | ${verdict(s)} |`,
  );
  const faultRows = r.faults.map(({ fault, outcome }) => {
    const fo = Object.entries(outcome.failovers)
      .map(([c, n]) => `${c} ×${n}`)
      .join(', ');
    const written = Object.values(outcome.events).reduce((a, b) => a + b, 0);
    const top = Object.entries(outcome.events)
      .slice(0, 3)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ');
    return `| ${fault.n} | ${f(fault.at / 60, 1)} | ${fault.kind} | ${fault.detail.replace(/\|/g, '/') || fault.target} | ${fo || 'none'} | ${written} (${top}) | ${outcome.ok ? 'as expected' : `**${outcome.problems.join('; ').replace(/\|/g, '/')}**`} |`;
  });
  return `## Soak: ${f(minutes, 0)} minutes with faults (\`npm run soak\`)

Run ${r.at} (commit ${r.commit}) on ${r.machine}, shared with other work: on average ${f(r.load.busyCores, 2)} of
${r.load.cores} cores busy and a load average of ${f(r.load.load1, 1)} during the soak.

**Method.** \`npm run soak -- --minutes ${o.minutes} --fault-every ${o.faultEverySeconds}\`: a fresh PostgreSQL, two controllers
and three probe agents (zones a/b/c, each reporting to both controllers) as real processes, ${o.clusters} clusters of 3 nodes on
the node farm (\`scripts/bench/node-farm.ts\`) plus ${o.realGroups} groups of 3 real redis-servers, all created through the REST API
with otherwise default settings (${r.clusterSettings}; real groups with a 30 s cooldown), agents at the default probe interval (500 ms), and one
webhook receiving every event. Every ${o.faultEverySeconds} s one fault, in rotation: SIGKILL of a real group's master (then started
again as a replica of the new master), SIGKILL of agent a or b (started again 5 s later; agent c runs the whole soak), SIGTERM of the
leading controller (started again at once), a switchover through the API, every PostgreSQL connection of the controllers terminated
(\`pg_terminate_backend\`), SIGKILL of the leading controller (started again 5 s later). Just before the next fault, the window is
judged from the event log: \`failover.started\` per cluster (exactly one for the targeted real group after a master kill or a
switchover, none anywhere else), \`node.odown\` on farm clusters (none expected), every process running, both controllers ready
with every node up, and both controllers publishing the same master, which answers \`ROLE\` master. Every ${o.sampleEverySeconds} s:
RSS (\`VmRSS\`) and open file descriptors (\`/proc/<pid>/fd\`) of each controller and agent, PostgreSQL connections to the database by
\`application_name\`, and rows and size (\`pg_total_relation_size\`) of \`events\` and \`webhook_deliveries\`. Growth per hour is the
least-squares slope after a ${f(r.warmupS / 60, 0)}-minute warm-up, fitted within each process incarnation (one slope, one intercept per
incarnation) and leaving out each restarted process's first ${f(r.restartWarmupS, 0)} s. Flat means under 10 MiB/h (or 5 % of the
peak) for RSS, 5/h for descriptors, 1/h for connections. Plot: [docs/soak.svg](docs/soak.svg) (dashed lines: faults, numbered as below).

| Series | First | Last | Max | Growth per hour | Verdict |
|---|---|---|---|---|---|
${rows.join('\n')}

| # | Minute | Fault | What happened | \`failover.started\` | Events written (most frequent) | Outcome |
|---|---|---|---|---|---|---|
${faultRows.join('\n')}

**Faults:** ${okFaults} of ${r.faults.length} as expected. Over the whole soak the ${o.clusters} farm clusters saw **${r.farmFailovers}**
\`failover.started\` and **${r.farmOdowns}** \`node.odown\`; unexpected process exits: ${r.unexpectedExits.length ? r.unexpectedExits.join('; ') : 'none'};
webhook POSTs received: ${r.webhooksReceived}.

**Verdict.** ${nonFlat.length === 0 ? 'Memory, file descriptors and PostgreSQL connections are flat.' : `Not flat: ${nonFlat.map((s) => `${label(s.key)} ${signed(s.perHour)}/h`).join(', ')} (see below).`}
The event log grows by design: ${f(events?.perHour ?? NaN, 0)} rows (${f(eventsMib?.perHour ?? NaN, 2)} MiB) per hour in this soak — the events
of the faults (${topTypes}). \`events\` is append-only (a trigger refuses updates and deletes) and Vigil never prunes
it; webhook delivery attempts are pruned after \`WEBHOOK_DELIVERY_RETENTION_DAYS\` (30).
`;
}
