import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type pg from 'pg';
import { machineBusySeconds } from '../bench/processes.js';
import type { Slot } from './slots.js';

/** One sample: seconds since the soak began, then named values (NaN when not readable). */
export interface Sample {
  t: number;
  values: Record<string, number>;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/**
 * The PostgreSQL connection groups sampled: each controller's TypeORM pool, the LISTEN connections
 * (topology and event feed), BullMQ's (its pool and one per queue), anything else.
 */
const CONNECTION_GROUPS: [string, (app: string) => boolean][] = [
  ['pg.conn.controller', (a) => a === 'vigil-controller'],
  ['pg.conn.listen', (a) => a.startsWith('vigil-listen-') || a.startsWith('vigil-events-')],
  ['pg.conn.jobs', (a) => a.startsWith('vigil-')],
  ['pg.conn.other', () => true],
];

/**
 * Every `everyS` seconds: RSS and open file descriptors of each slot's current process (from /proc),
 * its incarnation, PostgreSQL connections to the soak's database by application_name (the soak's own
 * excluded), rows and total size (with indexes and TOAST) of `events` and `webhook_deliveries`, the
 * BullMQ schema's size, and the webhook POSTs received. Each sample is appended to `csvFile`.
 */
export class Sampler {
  readonly samples: Sample[] = [];
  private columns: string[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private busy = { at: Date.now(), seconds: machineBusySeconds() };

  constructor(
    private readonly db: pg.Client,
    private readonly slots: Slot[],
    private readonly webhookDeliveries: () => number,
    private readonly csvFile: string,
    private readonly t0: number,
  ) {}

  start(everyS: number): void {
    const tick = () => {
      this.running = this.running.then(async () => void (await this.sample())).catch((err: unknown) => console.error(`sample: ${String(err)}`));
    };
    tick();
    this.timer = setInterval(tick, everyS * 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async sample(): Promise<Sample> {
    const values: Record<string, number> = {};
    for (const s of this.slots) {
      const pid = s.running ? s.pid : NaN;
      values[`${s.name}.rss_mib`] = Number.isNaN(pid) ? NaN : rssMiB(pid);
      values[`${s.name}.fds`] = Number.isNaN(pid) ? NaN : openFds(pid);
      values[`${s.name}.incarnation`] = s.incarnation;
    }
    const conns = await this.db.query<{ app: string; n: string }>(
      `SELECT coalesce(application_name, '') AS app, count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1`,
    );
    let total = 0;
    for (const [key] of CONNECTION_GROUPS) values[key] = 0;
    for (const row of conns.rows) {
      total += Number(row.n);
      const group = CONNECTION_GROUPS.find(([, match]) => match(row.app));
      if (group) values[group[0]] = values[group[0]]! + Number(row.n);
    }
    values['pg.conn.total'] = total;
    const sizes = await this.db.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM events) AS events_rows, pg_total_relation_size('events') AS events_bytes,
              (SELECT count(*) FROM webhook_deliveries) AS deliveries_rows, pg_total_relation_size('webhook_deliveries') AS deliveries_bytes,
              (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'bullmq' AND c.relkind = 'r') AS bullmq_bytes,
              pg_database_size(current_database()) AS database_bytes`,
    );
    const r = sizes.rows[0]!;
    values['events.rows'] = Number(r['events_rows']);
    values['events.mib'] = Number(r['events_bytes']) / 2 ** 20;
    values['webhook_deliveries.rows'] = Number(r['deliveries_rows']);
    values['webhook_deliveries.mib'] = Number(r['deliveries_bytes']) / 2 ** 20;
    values['bullmq.mib'] = Number(r['bullmq_bytes']) / 2 ** 20;
    values['database.mib'] = Number(r['database_bytes']) / 2 ** 20;
    values['webhooks.received'] = this.webhookDeliveries();
    // How busy the shared machine was: every core's busy time since the last sample, and the load average.
    const busy = { at: Date.now(), seconds: machineBusySeconds() };
    values['machine.busy_cores'] = (busy.seconds - this.busy.seconds) / ((busy.at - this.busy.at) / 1000);
    this.busy = busy;
    values['machine.load1'] = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    const sample = { t: (Date.now() - this.t0) / 1000, values };
    this.samples.push(sample);
    this.append(sample);
    return sample;
  }

  private append(s: Sample): void {
    if (!this.columns) {
      this.columns = Object.keys(s.values);
      writeFileSync(this.csvFile, `t_s,at,${this.columns.join(',')}\n`);
    }
    const at = new Date(this.t0 + s.t * 1000).toISOString();
    const row = this.columns.map((c) => {
      const v = s.values[c];
      return v === undefined || Number.isNaN(v) ? '' : String(Math.round(v * 100) / 100);
    });
    appendFileSync(this.csvFile, `${s.t.toFixed(1)},${at},${row.join(',')}\n`);
  }
}
